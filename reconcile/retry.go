package reconcile

import (
	"errors"
	"time"
)

// Retry backoff of failed recreates: a recreate whose new spec fails to
// create stops the running container and restores it (see Executor). Tried
// again every pass, a spec that cannot start (a port taken, a bad mount)
// would stop the working container once per resync; so the agent defers it,
// for a time that doubles with each failure, while the old one runs.
const (
	// FirstRetryDelay is how long a failed recreate waits before it is
	// tried again.
	FirstRetryDelay = time.Minute
	// MaxRetryDelay caps the doubling.
	MaxRetryDelay = 30 * time.Minute
)

// Deferral is a recreate the planner must not plan yet: the new spec
// SpecHash of a container failed to create and the previous one runs.
type Deferral struct {
	SpecHash string
	Until    time.Time
	Failures int
	Err      string
}

// RetryBackoff remembers, per container name, the last recreate that
// failed. The agent keeps one; it is not safe for concurrent use.
type RetryBackoff struct {
	failed map[string]Deferral
}

// Active returns the deferrals still in force at now, for Policy.Deferred.
func (r *RetryBackoff) Active(now time.Time) map[string]Deferral {
	out := make(map[string]Deferral, len(r.failed))
	for name, d := range r.failed {
		if now.Before(d.Until) {
			out[name] = d
		}
	}
	return out
}

// Record notes the outcome of each recreate of an applied plan: a failure
// defers that new spec (FirstRetryDelay, doubled per failure of the same
// spec, up to MaxRetryDelay); a success forgets the name. It returns the
// deferrals it added.
func (r *RetryBackoff) Record(now time.Time, plan Plan) []string {
	var added []string
	for _, a := range plan.Actions {
		if a.Kind != ActionRecreate || a.request == nil || errors.Is(a.Err, ErrNotStarted) || errors.Is(a.Err, ErrInterrupted) ||
			errors.Is(a.Err, ErrDependencyNotReady) {
			continue // a recreate never tried (or not to its end) says nothing of its spec
		}
		if errors.Is(a.Err, ErrRolledBack) {
			continue // held by its rollback record (Policy.RolledBack) instead
		}
		switch a.Status {
		case StatusDone:
			delete(r.failed, a.Name)
		case StatusFailed:
			if r.failed == nil {
				r.failed = make(map[string]Deferral)
			}
			d := r.failed[a.Name]
			if d.SpecHash != a.request.SpecHash {
				d = Deferral{SpecHash: a.request.SpecHash}
			}
			delay := FirstRetryDelay << min(d.Failures, 10)
			d.Failures++
			d.Until = now.Add(min(delay, MaxRetryDelay))
			if a.Err != nil {
				d.Err = a.Err.Error()
			}
			r.failed[a.Name] = d
			added = append(added, a.Name)
		}
	}
	return added
}
