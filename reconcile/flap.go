package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// The restart flap limit of a manifest that declares no restartLimit (or
// leaves out one of its fields): at most 10 restarts of an exited
// container within 10 minutes. Docker's and Compose's "always" restart
// forever, with a backoff; an agent that recreates a crashing container
// every pass forever hides the crash and churns the host, so the limit is
// on by default, loose enough that a container that crashes now and then
// is always restarted.
const (
	DefaultMaxRestarts   = 10
	DefaultRestartWindow = spec.Duration("10m")
)

// restartLimitOf is l with the defaults filled in.
func restartLimitOf(l spec.RestartLimit) (maxRestarts int, window spec.Duration) {
	maxRestarts, window = l.MaxRestarts, l.Window
	if maxRestarts <= 0 {
		maxRestarts = DefaultMaxRestarts
	}
	if window == "" || window.Std() <= 0 {
		window = DefaultRestartWindow
	}
	return maxRestarts, window
}

// RestartLedger is the flap limit's memory: the agent's restarts of each
// container (recreates of an exited container under its restartPolicy)
// with their spec hash and times. The Agent and the one-shot reconcile
// keep it in a file next to the removal ledger, so a restart of the agent
// does not reset the count. Times come from the caller.
type RestartLedger struct {
	Containers map[string]RestartHistory `json:"containers"`
}

// RestartHistory is one container's restarts within its window.
type RestartHistory struct {
	// SpecHash is the spec the restarts are of: a new spec starts a new
	// count.
	SpecHash string `json:"specHash"`
	// Restarts are the times of the restarts within the window, oldest
	// first.
	Restarts []time.Time `json:"restarts"`
	// MaxRestarts and Window are the limit in force at the last restart.
	MaxRestarts int           `json:"maxRestarts"`
	Window      spec.Duration `json:"window"`
	// Limited is set once the limit left the container stopped; cleared
	// by its next restart.
	Limited bool `json:"limited,omitempty"`
}

// Limit renders the limit: "restart limit: 5 in 10m".
func (h RestartHistory) Limit() string {
	return fmt.Sprintf("restart limit: %d in %s", h.MaxRestarts, h.Window)
}

// within counts the restarts after now less window.
func (h RestartHistory) within(now time.Time, window time.Duration) int {
	start := now.Add(-window)
	n := 0
	for _, t := range h.Restarts {
		if t.After(start) {
			n++
		}
	}
	return n
}

// RestartCounts is the ledger as the planner sees it at one time: see
// RestartLedger.At. The zero value counts nothing.
type RestartCounts struct {
	ledger *RestartLedger
	now    time.Time
}

// At is the ledger seen from now, for Policy.Restarts.
func (l *RestartLedger) At(now time.Time) RestartCounts { return RestartCounts{ledger: l, now: now} }

// count is how many times the container name of spec specHash was
// restarted within window.
func (r RestartCounts) count(name, specHash string, window time.Duration) int {
	if r.ledger == nil {
		return 0
	}
	h, ok := r.ledger.Containers[name]
	if !ok || h.SpecHash != specHash {
		return 0
	}
	return h.within(r.now, window)
}

// LimitedAt says, for a stopped system s, the restart limit that leaves
// it stopped ("restart limit: 5 in 10m"), or "" when none does (any more).
func (l *RestartLedger) LimitedAt(now time.Time, s driver.System) string {
	h, ok := l.Containers[s.Name]
	if !ok || !h.Limited || h.SpecHash != s.SpecHash || s.State != driver.StateStopped ||
		h.within(now, h.Window.Std()) < h.MaxRestarts {
		return ""
	}
	return h.Limit()
}

// isRestart reports whether a is the restart of an exited container: a
// recreate of a stopped system with the same spec and isolation.
func isRestart(a *Action) bool {
	if a.Kind != ActionRecreate || a.request == nil || len(a.remove) != 1 {
		return false
	}
	old := a.remove[0]
	return old.State == driver.StateStopped && old.SpecHash == a.request.SpecHash && old.Isolation == a.request.Isolation
}

// limitedRestart is a restart the plan leaves out for the flap limit.
type limitedRestart struct {
	name, specHash string
	maxRestarts    int
	window         spec.Duration
}

// limitRestarts takes out of the plan the restarts of exited containers
// that were restarted MaxRestarts times within their window already: such
// a container is left stopped, counted unchanged, and reported with a
// warning. desired is sorted by name.
func (p *Plan) limitRestarts(desired []*spec.Container, counts RestartCounts) {
	kept := p.Actions[:0]
	for i := range p.Actions {
		a := &p.Actions[i]
		if !isRestart(a) {
			kept = append(kept, *a)
			continue
		}
		maxRestarts, window := restartLimitOf(a.request.Spec.RestartLimit)
		n := counts.count(a.Name, a.request.SpecHash, window.Std())
		if n < maxRestarts {
			kept = append(kept, *a)
			continue
		}
		p.limited = append(p.limited, limitedRestart{name: a.Name, specHash: a.request.SpecHash, maxRestarts: maxRestarts, window: window})
		at, _ := slices.BinarySearch(p.Unchanged, a.Name)
		p.Unchanged = slices.Insert(p.Unchanged, at, a.Name)
		problem := spec.Problem{Name: a.Name, Message: fmt.Sprintf(
			"exited with code %d and left stopped: restart limit reached (%d restarts within %s, restartLimit); restarted again once its spec changes or the window has passed",
			a.remove[0].ExitCode, maxRestarts, window)}
		if c, ok := slices.BinarySearchFunc(desired, a.Name, func(c *spec.Container, name string) int { return strings.Compare(c.Metadata.Name, name) }); ok {
			problem.File, problem.Line = desired[c].Origin.File, desired[c].Origin.Line
		}
		p.Warnings = append(p.Warnings, problem)
	}
	clear(p.Actions[len(kept):])
	p.Actions = kept
}

// Record notes the restarts an applied plan carried out at time now (a
// restart tried counts, whether it worked or not) and the containers it
// left stopped for the limit, forgets what has left every window, and
// reports whether the ledger changed and which containers the limit
// stopped just now (not already in an earlier pass).
func (l *RestartLedger) Record(now time.Time, plan Plan) (changed bool, limited []string) {
	if l.Containers == nil {
		l.Containers = map[string]RestartHistory{}
	}
	for i := range plan.Actions {
		a := &plan.Actions[i]
		if !isRestart(a) || a.Status == StatusPlanned || a.Status == StatusHeld ||
			errors.Is(a.Err, ErrNotStarted) || errors.Is(a.Err, ErrDependencyNotReady) {
			continue
		}
		h := l.Containers[a.Name]
		if h.SpecHash != a.request.SpecHash {
			h = RestartHistory{SpecHash: a.request.SpecHash}
		}
		h.MaxRestarts, h.Window = restartLimitOf(a.request.Spec.RestartLimit)
		h.Restarts, h.Limited = append(h.Restarts, now), false
		l.Containers[a.Name] = h
		changed = true
	}
	for _, lr := range plan.limited {
		h := l.Containers[lr.name]
		if h.Limited && h.MaxRestarts == lr.maxRestarts && h.Window == lr.window {
			continue
		}
		h.Limited, h.MaxRestarts, h.Window = true, lr.maxRestarts, lr.window
		l.Containers[lr.name] = h
		limited = append(limited, lr.name)
		changed = true
	}
	for name, h := range l.Containers {
		start := now.Add(-h.Window.Std())
		if kept := slices.DeleteFunc(h.Restarts, func(t time.Time) bool { return !t.After(start) }); len(kept) == 0 {
			delete(l.Containers, name)
			changed = true
		} else if len(kept) != len(h.Restarts) {
			h.Restarts = kept
			l.Containers[name] = h
			changed = true
		}
	}
	return changed, limited
}

// LoadRestartLedger reads the ledger kept in path; a missing file is an
// empty ledger.
func LoadRestartLedger(path string) (RestartLedger, error) {
	var l RestartLedger
	err := loadJSONFile(path, "restart ledger", "it only counts the last restarts: delete it to start the counts again", &l)
	return l, err
}

// Save writes the ledger to path atomically.
func (l *RestartLedger) Save(path string) error { return saveJSONFile(path, "restart ledger", l) }

// noteRestarts records the restarts of an applied plan in the agent's
// restart ledger, logs each container the flap limit stops (once), and
// saves the ledger when it changed.
func (a *Agent) noteRestarts(log *zap.Logger, plan Plan) {
	changed, limited := a.Restarts.Record(a.now(), plan)
	for _, name := range limited {
		h := a.Restarts.Containers[name]
		log.Warn("restart limit reached: the container is left stopped until its spec changes or the window has passed",
			zap.String("name", name), zap.String("specHash", h.SpecHash), zap.String("limit", h.Limit()))
	}
	if !changed || a.RestartsPath == "" {
		return
	}
	if err := a.Restarts.Save(a.RestartsPath); err != nil {
		log.Error("restart ledger not saved: a restart of the agent would reset the restart counts", zap.Error(err))
	}
}
