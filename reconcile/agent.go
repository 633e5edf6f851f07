package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// DefaultResync is how often the agent compares everything even when no
// source said anything changed.
const DefaultResync = 30 * time.Second

// Converge runs one pass over a desired set: it reads the host and its
// compute systems, plans, and unless dryRun applies the plan. The error is
// for a host that could not be read; everything else is in the plan.
func Converge(ctx context.Context, d driver.Driver, desired Desired, policy Policy, ex *Executor, dryRun bool) (Plan, error) {
	host, err := d.Host(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("read host: %w", err)
	}
	observed, err := d.List(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("list compute systems: %w", err)
	}
	plan := ComputePlan(desired, observed, host, policy)
	plan.DryRun = dryRun
	if !dryRun {
		ex.Apply(ctx, &plan)
	}
	return plan, nil
}

// Merge joins the snapshots of several sources into one desired set: names
// must be unique across all of them, and any source that holds removals
// holds them for the whole set.
func Merge(snaps []source.Snapshot) Desired {
	var d Desired
	var all []spec.Container
	var reasons []string
	for _, s := range snaps {
		all = append(all, s.Containers...)
		d.Errors = append(d.Errors, s.Errors...)
		d.Warnings = append(d.Warnings, s.Warnings...)
		if s.HoldRemovals {
			d.HoldRemovals = true
			reasons = append(reasons, s.HoldReason)
		}
	}
	unique, dups := spec.CheckUnique(all)
	d.Containers = unique
	d.Errors = append(d.Errors, dups...)
	d.HoldReason = strings.Join(reasons, "; ")
	return d
}

// Agent keeps a host converged to its sources: level-triggered passes, each
// comparing the full desired set with the full live state. Sources, a
// resync timer and driver exit notifications only wake it; triggers that
// arrive during a pass coalesce into one more pass.
type Agent struct {
	Sources  []source.Source
	Driver   driver.Driver
	Executor *Executor
	Policy   Policy
	// Resync is the longest time without a pass (DefaultResync if 0): a
	// pass nobody asked for runs then, so a container that exits or
	// vanishes behind the agent's back is restored.
	Resync time.Duration
	// DryRun plans without applying.
	DryRun bool
	Logger *zap.Logger
	// OnPass, if set, is called after each pass with its plan.
	OnPass func(Plan)
	// RemovalWindow is how far back removals count against
	// Policy.MaxRemovals (DefaultRemovalWindow if 0).
	RemovalWindow time.Duration
	// Ledger is the removal history the agent starts from (see
	// LoadRemovalLedger); unless DryRun the agent keeps it up to date,
	// and writes it to LedgerPath after each pass that changed it, if
	// LedgerPath is set.
	Ledger     RemovalLedger
	LedgerPath string
	// Now is the clock of the removal window and of the retry backoff of
	// failed recreates (time.Now if nil).
	Now func() time.Time

	wake       chan struct{}
	pass       uint64
	lastProbs  string
	lastLogged time.Time
	lastHolds  string
	lastSave   string
	// retries defers the recreates that failed (see RetryBackoff).
	retries RetryBackoff

	mu sync.Mutex // guards held and approved
	// held names the removals the last pass held for their number;
	// approved those the operator approved for the next pass.
	held, approved []string
}

// Run runs the agent until ctx is done, then waits for the pass in flight
// (whose driver calls finish or time out, see Executor.Apply) and for the
// sources, and returns nil. It returns an error when a source can never
// work.
func (a *Agent) Run(ctx context.Context) error {
	a.wake = make(chan struct{}, 1)
	log := a.logger()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	fatal := make(chan error, len(a.Sources))
	for _, s := range a.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx, a.Trigger); err != nil {
				fatal <- fmt.Errorf("source %s: %w", s, err)
			}
		}()
	}
	if w, ok := a.Driver.(driver.ExitWatcher); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.WatchExits(ctx, func(id string) {
				log.Info("compute system exited", zap.String("id", id))
				a.Trigger()
			})
		}()
	}

	// The resync timer restarts after every pass: a resync means "no pass
	// for that long", so it never doubles a pass that just happened.
	interval := or(a.Resync, DefaultResync)
	resync := time.NewTimer(interval)
	defer resync.Stop()
	a.Trigger()
	for {
		select {
		case err := <-fatal:
			return err
		case <-ctx.Done():
			log.Info("stopping: no more passes")
			return nil
		case <-resync.C:
			a.Trigger()
		case <-a.wake:
			a.runPass(ctx)
			resync.Reset(interval)
		}
	}
}

// Trigger asks for a pass. It never blocks: triggers that arrive while one
// is pending coalesce.
func (a *Agent) Trigger() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *Agent) runPass(ctx context.Context) {
	a.pass++
	log := a.logger().With(zap.Uint64("pass", a.pass))
	start := time.Now()
	snaps := make([]source.Snapshot, 0, len(a.Sources))
	for _, s := range a.Sources {
		snap, err := s.Snapshot(ctx)
		if err != nil {
			snap = source.Snapshot{HoldRemovals: true, HoldReason: fmt.Sprintf("source %s could not be read: %v", s, err)}
		}
		snaps = append(snaps, snap)
	}
	desired := Merge(snaps)
	ex := *a.Executor
	ex.Logger = log
	policy := a.Policy
	policy.Removals = a.Ledger.Window(a.now(), a.removalWindow())
	policy.Deferred = a.retries.Active(a.now())
	a.mu.Lock()
	policy.Removals.Approved, a.approved = a.approved, nil // one pass, one time
	a.mu.Unlock()
	plan, err := Converge(ctx, a.Driver, desired, policy, &ex, a.DryRun)
	if err != nil {
		log.Error("pass failed: the host could not be read; will retry", zap.Error(err))
		a.mu.Lock()
		a.approved = append(a.approved, policy.Removals.Approved...) // for the retry
		a.mu.Unlock()
		return
	}
	a.logProblems(log, plan)
	a.noteHolds(log, plan)
	if !a.DryRun && a.Ledger.Record(a.now(), a.removalWindow(), plan) {
		a.saveLedger(log)
	}
	if !a.DryRun {
		for _, name := range a.retries.Record(a.now(), plan) {
			d := a.retries.failed[name]
			log.Warn("recreate failed: its new spec waits before it is tried again",
				zap.String("name", name), zap.String("specHash", d.SpecHash), zap.Time("retryAt", d.Until), zap.Int("failures", d.Failures))
		}
	}
	c := plan.Counts()
	log.Info("pass done",
		zap.Int("desired", len(desired.Containers)),
		zap.Int("created", c.Create), zap.Int("recreated", c.Recreate), zap.Int("removed", c.Remove), zap.Int("held", c.Held),
		zap.Int("unchanged", c.Unchanged), zap.Int("failed", c.Failed),
		zap.Int("errors", c.Errors), zap.Int("warnings", c.Warnings),
		zap.Strings("revisions", revisions(snaps)),
		zap.Bool("dryRun", a.DryRun),
		zap.Duration("duration", time.Since(start)))
	if a.OnPass != nil {
		a.OnPass(plan)
	}
}

// logProblems logs the plan's errors and warnings when they differ from
// the last pass's, and again once per resync interval while they last: a
// broken file is reported until it is fixed, without a line per trigger.
func (a *Agent) logProblems(log *zap.Logger, plan Plan) {
	var b strings.Builder
	for _, p := range plan.Errors {
		b.WriteString("E" + p.Error() + "\n")
	}
	for _, p := range plan.Warnings {
		b.WriteString("W" + p.Error() + "\n")
	}
	if b.String() == a.lastProbs && time.Since(a.lastLogged) < or(a.Resync, DefaultResync) {
		return
	}
	a.lastProbs, a.lastLogged = b.String(), time.Now()
	for _, p := range plan.Errors {
		log.Error("desired set error: kept as it was until fixed", problemFields(p)...)
	}
	for _, p := range plan.Warnings {
		log.Warn("desired set warning", problemFields(p)...)
	}
}

// ErrNotHeld is an approval for a removal the agent does not hold.
var ErrNotHeld = errors.New("removal not held")

// ApproveRemovals approves removals the last pass held for their number
// (names, or all of them if names is empty), for one time: the next pass,
// which it triggers, carries out exactly those that are still undeclared,
// and opens a new removal window. A removal held because the desired set
// is partial is not approvable: fixing the set releases it. It returns
// the names approved; a name not held is ErrNotHeld.
func (a *Agent) ApproveRemovals(names []string) ([]string, error) {
	a.mu.Lock()
	if len(names) == 0 {
		names = slices.Clone(a.held)
	}
	for _, n := range names {
		if !slices.Contains(a.held, n) {
			a.mu.Unlock()
			return nil, fmt.Errorf("%w: %s (held now: %s)", ErrNotHeld, n, orNothing(a.held))
		}
	}
	a.approved = append(a.approved, names...)
	slices.Sort(a.approved)
	a.approved = slices.Compact(a.approved)
	a.mu.Unlock()
	if len(names) > 0 {
		a.logger().Info("removals approved: the next pass carries them out", zap.Strings("names", names))
		a.Trigger()
	}
	return names, nil
}

// noteHolds remembers which removals the plan holds for their number
// (what ApproveRemovals may approve) and logs the holds when they change:
// once when a hold starts or its set of names changes, once when it ends.
func (a *Agent) noteHolds(log *zap.Logger, plan Plan) {
	groups := holds(plan)
	var approvable []string
	var key strings.Builder
	for _, h := range groups {
		if h.approvable {
			approvable = append(approvable, h.names...)
		}
		fmt.Fprintf(&key, "%s\x00%s\x00%t\n", strings.Join(h.names, ","), h.reason, h.approvable)
	}
	a.mu.Lock()
	a.held = approvable
	a.mu.Unlock()
	if key.String() == a.lastHolds {
		return
	}
	if len(groups) == 0 {
		log.Info("removals no longer held")
	}
	for _, h := range groups {
		log.Warn("removals held", zap.Strings("names", h.names), zap.String("reason", h.reason), zap.Bool("approvable", h.approvable))
	}
	a.lastHolds = key.String()
}

// saveLedger writes the removal ledger, logging a failure once per error.
func (a *Agent) saveLedger(log *zap.Logger) {
	if a.LedgerPath == "" {
		return
	}
	msg := ""
	if err := a.Ledger.Save(a.LedgerPath); err != nil {
		msg = err.Error()
		if msg != a.lastSave {
			log.Error("removal ledger not saved: a restart would open a new removal window", zap.Error(err))
		}
	}
	a.lastSave = msg
}

func (a *Agent) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func (a *Agent) removalWindow() time.Duration { return or(a.RemovalWindow, DefaultRemovalWindow) }

func orNothing(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

func problemFields(p spec.Problem) []zap.Field {
	return []zap.Field{zap.String("source", p.File), zap.Int("line", p.Line), zap.String("name", p.Name),
		zap.String("field", p.Field), zap.String("message", p.Message)}
}

func revisions(snaps []source.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		if s.Revision != "" && !slices.Contains(out, s.Revision) {
			out = append(out, s.Revision)
		}
	}
	return out
}

func (a *Agent) logger() *zap.Logger {
	if a.Logger == nil {
		return zap.NewNop()
	}
	return a.Logger
}
