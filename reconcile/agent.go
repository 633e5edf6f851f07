package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/errclass"
	"github.com/reconciler/reconciler/spec"
)

// DefaultResync is how often the agent compares everything even when no
// source said anything changed.
const DefaultResync = 30 * time.Second

// Converge runs one pass over a desired set: it reads the host and its
// compute systems, plans, and unless dryRun applies the plan. The error is
// for a host that could not be read; everything else is in the plan.
//
// Each read is bounded by ex.ReadTimeout (DefaultReadTimeout if 0) and
// waited for no longer, even by a driver that ignores its context: such a
// read gives ErrReadTimeout (see readBounded for what becomes of the call).
func Converge(ctx context.Context, d driver.Driver, desired spec.Set, policy Policy, ex *Executor, dryRun bool) (Plan, error) {
	return converge(ctx, readBounds{timeout: ex.ReadTimeout}, d, desired, policy, ex, dryRun)
}

func converge(ctx context.Context, reads readBounds, d driver.Driver, desired spec.Set, policy Policy, ex *Executor, dryRun bool) (Plan, error) {
	host, err := readBounded(ctx, reads, d.Host)
	if err != nil {
		return Plan{}, fmt.Errorf("read host: %w", err)
	}
	observed, err := readBounded(ctx, reads, d.List)
	if err != nil {
		return Plan{}, fmt.Errorf("list compute systems: %w", err)
	}
	plan := ComputePlan(desired, observed, host, policy)
	plan.observed = observed
	describeChanges(ctx, reads, d, &plan)
	plan.DryRun = dryRun
	if !dryRun {
		ex.Apply(ctx, &plan)
	}
	return plan, nil
}

// Merge joins the snapshots of several sources into one desired set: names
// and host ports must be unique across all of them and dependencies met
// (spec.CheckUnique), and any source that holds removals holds them for
// the whole set. The merged set has no Revision: the agent logs each
// source's own. One source's set (the common case) is its own, not copied.
func Merge(snaps []spec.Set) spec.Set {
	var d spec.Set
	var reasons []string
	n := 0
	for _, s := range snaps {
		n += len(s.Containers)
		d.Errors = append(d.Errors, s.Errors...)
		d.Warnings = append(d.Warnings, s.Warnings...)
		if s.HoldRemovals {
			d.HoldRemovals = true
			reasons = append(reasons, s.HoldReason)
		}
	}
	d.HoldReason = strings.Join(reasons, "; ")
	if len(snaps) == 1 {
		d.Containers = snaps[0].Containers // checked by its source
		return d
	}
	all := make([]spec.Container, 0, n)
	for _, s := range snaps {
		all = append(all, s.Containers...)
	}
	// Each source checked its own set; across them, names, host ports and
	// dependencies are checked again.
	unique, problems := spec.CheckUnique(all)
	d.Containers = unique
	d.Errors = append(d.Errors, problems...)
	return d
}

// Agent keeps a host converged to its sources: level-triggered passes, each
// comparing the full desired set with the full live state. Sources, a
// resync timer and driver exit notifications only wake it; triggers that
// arrive during a pass coalesce into one more pass.
type Agent struct {
	Sources  []Source
	Driver   driver.Driver
	Executor *Executor
	Policy   Policy
	// Resync is the longest time without a pass (DefaultResync if 0): a
	// pass nobody asked for runs then, so a container that exits or
	// vanishes behind the agent's back is restored.
	Resync time.Duration
	// DryRun plans without applying.
	DryRun bool
	// TrimMemory keeps the process's memory near its live heap: while
	// Run runs, the garbage collector runs at half the process's GOGC (a
	// quarter during the first pass, which reads every manifest), and
	// memory is returned to the OS once no pass has run for a while. It
	// changes a process-wide setting (debug.SetGCPercent) until Run
	// returns: set it in the agent's own process only. GOGC=off is left
	// alone.
	TrimMemory bool
	Logger     *zap.Logger
	// OnPass, if set, is called after each pass with its plan.
	OnPass func(Plan)
	// OnReport, if set, is called after each pass, one that could not
	// read the host included, with what it did. It runs on the agent's
	// loop: it must not block.
	OnReport func(PassReport)
	// Suspended, if set, is asked at the start of each pass: while it
	// reports true the pass plans and reports as a dry run does, and
	// applies nothing.
	Suspended func() bool
	// RemovalWindow is how far back removals count against
	// Policy.MaxRemovals (DefaultRemovalWindow if 0).
	RemovalWindow time.Duration
	// Ledger is the removal history the agent starts from (see
	// LoadRemovalLedger); unless DryRun the agent keeps it up to date,
	// and writes it to LedgerPath after each pass that changed it, if
	// LedgerPath is set.
	Ledger     RemovalLedger
	LedgerPath string
	// Restarts counts the restarts of exited containers for their flap
	// limit (see LoadRestartLedger); unless DryRun the agent keeps it up
	// to date, and writes it to RestartsPath when it changed, if set.
	Restarts     RestartLedger
	RestartsPath string
	// Health, if set, is told after each pass which running containers
	// declare a healthcheck, and watches their health; Run closes it.
	Health *HealthMonitor
	// Rollbacks, if set, are the specs rolled back for failing their
	// health gate (see LoadRollbacks): a recreate to one is held until
	// its manifest changes. Unless DryRun the agent records new ones and
	// forgets those whose manifest changed.
	Rollbacks *Rollbacks
	// Now is the clock of the removal window and of the retry backoff of
	// failed recreates (time.Now if nil).
	Now func() time.Time
	// PassTimeout bounds a pass (DefaultPassTimeout if 0): past it no
	// further read or action starts, and actions in flight finish within
	// their own Executor.Timeout. Reads of the host are bounded by
	// Executor.ReadTimeout.
	PassTimeout time.Duration

	wakeOnce sync.Once
	wake     chan struct{}
	pass     uint64
	// stuck counts the reads of the host given up on whose driver call
	// has not returned yet (see readBounded).
	stuck  atomic.Int32
	panics atomic.Uint64
	// expireRead, if set, replaces the timer of Executor.ReadTimeout
	// (tests).
	expireRead func() <-chan time.Time
	// State of the last pass, logged when it changes (STYLE.md lesson
	// 17): the class of its read failure ("" when the host was read), the
	// problems of the desired set, the holds, whether the ledger was saved.
	readFailure string
	problems    map[problemKey]bool
	lastHolds   string
	// lastRollbacks keys the recreates held by Rollbacks in the last pass.
	lastRollbacks string
	saveFailing   bool
	// retries defers the recreates that failed (see RetryBackoff).
	retries RetryBackoff
	// hashes keeps the spec hashes of the desired set between passes.
	hashes SpecHashes
	// mem is the state of TrimMemory.
	mem memoryTrim

	// causes are why the next pass runs (see triggerFor).
	causesMu sync.Mutex
	causes   []string

	mu sync.Mutex // guards held and approved
	// held names the removals the last pass held for their number;
	// approved those the operator approved for the next pass.
	held, approved []string
}

// Run runs the agent until ctx is done, then waits for the pass in flight
// (whose driver calls finish or time out, see Executor.Apply; a read of the
// host is not waited for, see readBounded) and for the sources, and
// returns nil. It returns an error when a source can never work.
func (a *Agent) Run(ctx context.Context) error {
	wake := a.wakeChan()
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
			if err := s.Run(ctx, func() { a.triggerFor(fmt.Sprint(s)) }); err != nil {
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
				a.triggerFor("exit of " + id)
			})
		}()
	}

	// The resync timer restarts after every pass: a resync means "no pass
	// for that long", so it never doubles a pass that just happened.
	interval := or(a.Resync, DefaultResync)
	resync := time.NewTimer(interval)
	defer resync.Stop()
	if a.TrimMemory {
		defer a.mem.start(log)()
	}
	defer a.Health.Close()
	a.triggerFor("start")
	for {
		select {
		case err := <-fatal:
			return err
		case <-ctx.Done():
			log.Info("stopping: no more passes")
			return nil
		case <-resync.C:
			a.triggerFor("resync")
		case <-wake:
			a.runPass(ctx)
			resync.Reset(interval)
			a.mem.passDone()
		case <-a.mem.quiet():
			a.mem.trim()
		}
	}
}

// Trigger asks for a pass. It never blocks: triggers that arrive while one
// is pending coalesce. A trigger before Run is kept: Run's first pass
// answers it.
func (a *Agent) Trigger() { a.triggerFor("trigger") }

// maxCauses bounds the causes a pass keeps: past it (a burst of exits, say)
// the rest are not named.
const maxCauses = 16

// triggerFor is Trigger saying why: the pass logs every cause it answers
// ("dir /srv/manifests", "resync", "exit of web_…", "removal approval").
func (a *Agent) triggerFor(cause string) {
	a.causesMu.Lock()
	if !slices.Contains(a.causes, cause) && len(a.causes) < maxCauses {
		a.causes = append(a.causes, cause)
	}
	a.causesMu.Unlock()
	select {
	case a.wakeChan() <- struct{}{}:
	default:
	}
}

// takeCauses returns the causes of the pass starting now and forgets them.
func (a *Agent) takeCauses() []string {
	a.causesMu.Lock()
	defer a.causesMu.Unlock()
	c := a.causes
	a.causes = nil
	return c
}

// wakeChan returns the channel Trigger fills, made on first use so that a
// Trigger before Run counts.
func (a *Agent) wakeChan() chan struct{} {
	a.wakeOnce.Do(func() { a.wake = make(chan struct{}, 1) })
	return a.wake
}

// Panics reports how many passes panicked (each was logged and the agent
// went on).
func (a *Agent) Panics() uint64 { return a.panics.Load() }

// runPass runs one pass within the pass deadline. A panic in it (or in a
// read of the host, see readBounded) is logged with the pass id and the
// stack, counted, and ends that pass only: the agent goes on.
func (a *Agent) runPass(ctx context.Context) {
	a.pass++
	defer a.mem.firstPass(a.pass)()
	log := a.logger().With(zap.Uint64("pass", a.pass))
	causes := a.takeCauses()
	timeout := or(a.PassTimeout, DefaultPassTimeout)
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w (%s)", ErrPassTimeout, timeout))
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			a.panics.Add(1)
			stack := zap.Stack("stack")
			if p, ok := r.(*passPanic); ok {
				stack = zap.ByteString("stack", p.stack)
			}
			log.Error("pass panicked: it is abandoned, the next pass runs as usual",
				zap.Any("panic", r), stack, zap.Uint64("panics", a.panics.Load()))
		}
	}()
	a.doPass(ctx, log, causes)
}

// doPass reads the sources and converges the host to them; causes are why
// it runs, for its log line.
func (a *Agent) doPass(ctx context.Context, log *zap.Logger, causes []string) {
	start := time.Now()
	report := PassReport{Pass: a.pass, Causes: causes, Started: start, DryRun: a.DryRun,
		Suspended: !a.DryRun && a.Suspended != nil && a.Suspended()}
	dryRun := a.DryRun || report.Suspended
	snaps := make([]spec.Set, 0, len(a.Sources))
	for _, s := range a.Sources {
		snap, err := s.Snapshot(ctx)
		if err != nil {
			snap = spec.Set{HoldRemovals: true, HoldReason: fmt.Sprintf("source %s could not be read: %v", s, err)}
		}
		snaps = append(snaps, snap)
		report.Sources = append(report.Sources, SourceReport{Name: s.String(), Revision: snap.Revision, Err: err})
	}
	desired := Merge(snaps)
	ex := *a.Executor
	ex.Logger = log
	policy := a.Policy
	policy.Removals = a.Ledger.Window(a.now(), a.removalWindow())
	policy.Deferred = a.retries.Active(a.now())
	policy.Hashes = &a.hashes
	policy.Restarts = a.Restarts.At(a.now())
	policy.RolledBack = a.Rollbacks.Active()
	if !dryRun {
		ex.Rollbacks = a.Rollbacks
	}
	a.mu.Lock()
	policy.Removals.Approved, a.approved = a.approved, nil // one pass, one time
	a.mu.Unlock()
	reads := readBounds{timeout: ex.ReadTimeout, expire: a.expireRead, stuck: &a.stuck, onUnstuck: a.Trigger}
	plan, err := converge(ctx, reads, a.Driver, desired, policy, &ex, dryRun)
	a.noteRead(log, err)
	for name := range policy.Deferred {
		report.Deferred = append(report.Deferred, name)
	}
	slices.Sort(report.Deferred)
	defer func() {
		if a.OnReport != nil {
			report.Plan, report.Err, report.Duration = plan, err, time.Since(start)
			a.OnReport(report)
		}
	}()
	if err != nil || report.Suspended {
		// For the retry, or for the pass after the resume.
		a.mu.Lock()
		a.approved = append(a.approved, policy.Removals.Approved...)
		a.mu.Unlock()
	}
	if err != nil {
		return
	}
	a.hashes.Sweep()
	if a.Health != nil {
		a.Health.Set(healthTargets(desired, &plan, policy.Owner, a.now()))
	}
	plan.observed = nil
	a.logProblems(log, plan)
	a.noteHolds(log, plan)
	a.noteRollbacks(log, plan)
	if !dryRun && a.Ledger.Record(a.now(), a.removalWindow(), plan) {
		a.saveLedger(log)
	}
	if !dryRun {
		a.noteRestarts(log, plan)
		for _, name := range a.retries.Record(a.now(), plan) {
			d := a.retries.failed[name]
			log.Warn("recreate failed: its new spec waits before it is tried again",
				zap.String("name", name), zap.String("specHash", d.SpecHash), zap.Time("retryAt", d.Until), zap.Int("failures", d.Failures))
		}
	}
	c := plan.Counts()
	downtime := zap.Skip()
	if d, ok := plan.Downtime(); ok {
		downtime = zap.Duration("downtime", d) // the longest of its recreates
	}
	log.Info("pass done",
		zap.Int("desired", len(desired.Containers)),
		zap.Int("created", c.Create), zap.Int("recreated", c.Recreate), zap.Int("removed", c.Remove), zap.Int("held", c.Held),
		zap.Int("unchanged", c.Unchanged), zap.Int("failed", c.Failed),
		zap.Int("errors", c.Errors), zap.Int("warnings", c.Warnings),
		zap.Strings("revisions", revisions(snaps)),
		zap.Bool("dryRun", a.DryRun),
		zap.Bool("suspended", report.Suspended),
		zap.Strings("trigger", causes),
		downtime,
		zap.Duration("duration", time.Since(start)))
	if a.OnPass != nil {
		a.OnPass(plan)
	}
}

// noteRead logs when reading the host starts failing, when the class of
// its failure changes and when it works again; a failure that lasts is
// logged at debug level only.
func (a *Agent) noteRead(log *zap.Logger, err error) {
	class := errclass.Of(err, ErrReadTimeout, ErrHostStuck, ErrPassTimeout, context.Canceled,
		driver.ErrTransient, driver.ErrNotFound, driver.ErrIncompatible)
	switch {
	case class == a.readFailure && err != nil:
		log.Debug("pass failed: the host still cannot be read", zap.Error(err))
	case class == a.readFailure:
	case err != nil:
		log.Error("pass failed: the host could not be read; will retry", zap.Error(err), zap.String("class", class))
	default:
		log.Info("host readable again")
	}
	a.readFailure = class
}

// problemKey identifies a problem of the desired set across passes: what
// it is about and what it says, not the line it is on (lines move when a
// file is edited above the problem).
type problemKey struct {
	file, name, field, message string
	warning                    bool
}

// logProblems logs each problem of the plan when it appears and, once
// they are all gone, that they are: a broken file is reported once, not
// once per pass nor again when another problem appears, and its fix is
// reported too.
func (a *Agent) logProblems(log *zap.Logger, plan Plan) {
	now := make(map[problemKey]bool, len(plan.Errors)+len(plan.Warnings))
	note := func(p spec.Problem, warning bool) {
		k := problemKey{p.File, p.Name, p.Field, p.Message, warning}
		switch {
		case a.problems[k] || now[k]:
		case warning:
			log.Warn("desired set warning", problemFields(p)...)
		default:
			log.Error("desired set error: kept as it was until fixed", problemFields(p)...)
		}
		now[k] = true
	}
	for _, p := range plan.Errors {
		note(p, false)
	}
	for _, p := range plan.Warnings {
		note(p, true)
	}
	if len(now) == 0 && len(a.problems) > 0 {
		log.Info("desired set problems fixed")
	}
	a.problems = now
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
		a.triggerFor("removal approval")
	}
	return names, nil
}

// noteHolds remembers which removals the plan holds for their number
// (what ApproveRemovals may approve) and logs the holds when they change:
// once when a hold starts or its set of names changes, once when it ends.
func (a *Agent) noteHolds(log *zap.Logger, plan Plan) {
	groups := slices.DeleteFunc(holds(plan), func(h holdGroup) bool { return h.kind != ActionRemove })
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

// saveLedger writes the removal ledger, logging when saving starts to fail
// and when it works again.
func (a *Agent) saveLedger(log *zap.Logger) {
	if a.LedgerPath == "" {
		return
	}
	err := a.Ledger.Save(a.LedgerPath)
	switch {
	case err != nil && !a.saveFailing:
		log.Error("removal ledger not saved: a restart would open a new removal window", zap.Error(err))
	case err != nil:
		log.Debug("removal ledger still not saved", zap.Error(err))
	case a.saveFailing:
		log.Info("removal ledger saved again")
	}
	a.saveFailing = err != nil
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

func revisions(snaps []spec.Set) []string {
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
