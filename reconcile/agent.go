package reconcile

import (
	"context"
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

	wake       chan struct{}
	pass       uint64
	lastProbs  string
	lastLogged time.Time
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
	plan, err := Converge(ctx, a.Driver, desired, a.Policy, &ex, a.DryRun)
	if err != nil {
		log.Error("pass failed: the host could not be read; will retry", zap.Error(err))
		return
	}
	a.logProblems(log, plan)
	c := plan.Counts()
	log.Info("pass done",
		zap.Int("desired", len(desired.Containers)),
		zap.Int("created", c.Create), zap.Int("recreated", c.Recreate), zap.Int("removed", c.Remove),
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
