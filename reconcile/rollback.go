package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// ErrRolledBack marks a rollout whose new spec was not healthy within its
// progress deadline: the new container was removed and the previous spec
// restored (or, for startFirst, left running). The failed spec is not
// tried again until the manifest changes (see Rollbacks).
var ErrRolledBack = errors.New("rolled back")

// ErrUnhealthyLeft marks a rollout whose new spec was not healthy within
// its progress deadline and was left running: update.autoRollback: false
// asks so, or there was no previous spec to restore.
var ErrUnhealthyLeft = errors.New("unhealthy, left running")

// ErrInterrupted marks a rollout stopped (SIGTERM, the pass deadline)
// while it waited for the new container's health: nothing was rolled
// back, and the next pass picks it up from what the host shows.
var ErrInterrupted = errors.New("interrupted while waiting for health")

// RollbackRecord is one rollout that was rolled back: the spec that failed
// and the one restored.
type RollbackRecord struct {
	// SpecHash is the spec hash that was not healthy.
	SpecHash string `json:"specHash"`
	// PreviousSpecHash is the spec hash restored (or kept, for startFirst).
	PreviousSpecHash string `json:"previousSpecHash"`
	// Reason is the health failure, in the words of the check.
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// RolledBackStatus is what status shows for a container whose last
// rollout was rolled back.
const RolledBackStatus = "failed (rolled back)"

// Rollbacks is the agent's memory of rolled-back specs, by container
// name, kept in a file beside the removal ledger so that a restart does
// not try a failed spec again: the planner holds a recreate to a spec
// recorded here (Policy.RolledBack) until the manifest's spec changes.
// It is safe for concurrent use: the executor records while the actions
// of a pass run in parallel. The zero value keeps the records in memory
// only.
type Rollbacks struct {
	mu     sync.Mutex
	path   string
	byName map[string]RollbackRecord
}

// LoadRollbacks reads the rolled-back specs kept in path; a missing file
// is none. Every change is written back to path.
func LoadRollbacks(path string) (*Rollbacks, error) {
	r := &Rollbacks{path: path, byName: map[string]RollbackRecord{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rollback record: %w", err)
	}
	if err := json.Unmarshal(b, &r.byName); err != nil {
		return nil, fmt.Errorf("rollback record %s: %w (it only holds failed specs not to retry: delete it to let them be tried again)", path, err)
	}
	return r, nil
}

// Active returns a copy of the records, for Policy.RolledBack. A nil
// Rollbacks has none.
func (r *Rollbacks) Active() map[string]RollbackRecord {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.byName)
}

// Record remembers that name's spec rec.SpecHash was rolled back, and
// saves the records. A nil Rollbacks records nothing.
func (r *Rollbacks) Record(name string, rec RollbackRecord) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil {
		r.byName = map[string]RollbackRecord{}
	}
	r.byName[name] = rec
	return r.saveLocked()
}

// Keep forgets every record but those of the names given (the ones a plan
// still holds, see Plan.RolledBackNames), and saves the records when that
// changed anything: a record is dropped once its manifest's spec changes
// or the container is no longer declared.
func (r *Rollbacks) Keep(names []string) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.byName)
	maps.DeleteFunc(r.byName, func(name string, _ RollbackRecord) bool { return !slices.Contains(names, name) })
	if len(r.byName) == n {
		return nil
	}
	return r.saveLocked()
}

func (r *Rollbacks) saveLocked() error {
	if r.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(r.byName, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("rollback record: %w", err)
	}
	return nil
}

// rollbackHold is the hold reason of a recreate to a spec that was rolled
// back: what happened and what to do.
func rollbackHold(rec RollbackRecord) string {
	return fmt.Sprintf("spec %s was rolled back to %s at %s (%s); it is not tried again until the manifest changes: fix the spec or its health check",
		rec.SpecHash, orNone(rec.PreviousSpecHash), rec.At.UTC().Format(time.RFC3339), rec.Reason)
}

// noteRollbacks logs the recreates the plan holds because their spec was
// rolled back, when that set changes, and unless DryRun forgets the
// records no longer in force (their manifest changed).
func (a *Agent) noteRollbacks(log *zap.Logger, plan Plan) {
	if !a.DryRun {
		if err := a.Rollbacks.Keep(plan.RolledBackNames()); err != nil {
			log.Error("rollback record not saved", zap.Error(err))
		}
	}
	var key strings.Builder
	for _, act := range plan.Actions {
		if act.Kind == ActionRecreate && act.Status == StatusHeld {
			fmt.Fprintf(&key, "%s\x00%s\n", act.Name, act.HoldReason)
		}
	}
	if key.String() == a.lastRollbacks {
		return
	}
	for _, act := range plan.Actions {
		if act.Kind == ActionRecreate && act.Status == StatusHeld {
			log.Warn("update held: its spec was rolled back", zap.String("name", act.Name), zap.String("reason", act.HoldReason))
		}
	}
	a.lastRollbacks = key.String()
}
