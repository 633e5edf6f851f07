package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Health is a container's health as its health checks found it.
type Health string

// The health states, as Docker names them.
const (
	// HealthStarting: no check has passed yet and the failures seen are
	// fewer than the check's retries (or within its start period).
	HealthStarting Health = "starting"
	HealthHealthy  Health = "healthy"
	// HealthUnhealthy: retries checks in a row failed after the start
	// period.
	HealthUnhealthy Health = "unhealthy"
)

// ContainerHealth is one container's health, for status views.
type ContainerHealth struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Health Health `json:"health"`
	// LastFailure is what the last failed check saw; empty when none
	// failed since the container started being watched.
	LastFailure string `json:"lastFailure,omitempty"`
	// Failures is how many checks in a row failed.
	Failures int `json:"failures"`
	// Since is when Health took its value; LastCheck when the last check
	// ended (zero before the first).
	Since     time.Time `json:"since"`
	LastCheck time.Time `json:"lastCheck,omitzero"`
}

// HealthTarget is a running container whose health is watched.
type HealthTarget struct {
	Name, ID string
	Check    spec.Healthcheck
	// Started is when the container started: failures within the check's
	// start period do not count.
	Started time.Time
}

// healthTracker turns check outcomes into a Health, as Docker does:
// starting until a check passes or, past the start period, retries checks
// in a row fail; then healthy until retries in a row fail, unhealthy until
// one passes.
type healthTracker struct {
	ContainerHealth
	timing  spec.HealthTiming
	started time.Time
}

func newHealthTracker(t HealthTarget, now time.Time) *healthTracker {
	return &healthTracker{ContainerHealth: ContainerHealth{Name: t.Name, ID: t.ID, Health: HealthStarting, Since: now},
		timing: t.Check.Timing(), started: t.Started}
}

// observe records one check's outcome at now and returns the health
// before it.
func (h *healthTracker) observe(err error, now time.Time) (was Health) {
	was = h.Health
	h.LastCheck = now
	next := h.Health
	switch {
	case err == nil:
		h.Failures = 0
		next = HealthHealthy
	case h.Health == HealthStarting && now.Sub(h.started) < h.timing.StartPeriod:
		h.LastFailure = err.Error() // does not count
	default:
		h.LastFailure = err.Error()
		h.Failures++
		if h.Failures >= h.timing.Retries {
			next = HealthUnhealthy
		}
	}
	if next != h.Health {
		h.Health, h.Since = next, now
	}
	return was
}

// HealthMonitor keeps the health of the running containers that declare a
// healthcheck: each container is checked on its check's interval (the
// first at a random point within it, each next one ±10 % around it, so
// that a thousand containers never check at once), each check bounded by
// its timeout and run in a goroutine of its own, so a slow check delays no
// other. One scheduler goroutine wakes on a coarse tick (a quarter of the
// shortest interval, at most every 500 ms) and starts the checks that are
// due: a thousand containers cost a few wakeups a second, not one per
// check. Transitions are logged once: unhealthy at warn, a recovery at
// info. The agent sets what it watches after each pass (Set); status views
// read Health. Close stops it.
type HealthMonitor struct {
	checker driver.HealthChecker
	log     *zap.Logger
	now     func() time.Time
	// jitter returns a number in [0, 1).
	jitter func() float64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// retick carries the scheduler's new tick after Set.
	retick chan time.Duration

	mu      sync.Mutex
	watched map[string]*watchedHealth // by system ID
	tick    time.Duration
}

type watchedHealth struct {
	target  HealthTarget
	tracker *healthTracker
	// next is when the next check is due; running is set while one runs.
	next    time.Time
	running bool
}

// The scheduler's tick: a quarter of the shortest interval, within these
// bounds.
const (
	minHealthTick = 5 * time.Millisecond
	maxHealthTick = 500 * time.Millisecond
)

// NewHealthMonitor returns a monitor that checks through d, or nil when d
// cannot run health checks (it is not a driver.HealthChecker); a nil
// monitor watches nothing. now is its clock (time.Now if nil).
func NewHealthMonitor(d driver.Driver, log *zap.Logger, now func() time.Time) *HealthMonitor {
	checker, ok := d.(driver.HealthChecker)
	if !ok {
		return nil
	}
	if log == nil {
		log = zap.NewNop()
	}
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &HealthMonitor{checker: checker, log: log, now: now, jitter: rand.Float64, ctx: ctx, cancel: cancel,
		retick: make(chan time.Duration, 1), watched: map[string]*watchedHealth{}}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.schedule()
	}()
	return m
}

// Set makes targets the containers watched: it starts watching the new
// ones (by system ID) and stops watching those not in targets. A target
// whose healthcheck changed is watched afresh.
func (m *HealthMonitor) Set(targets []HealthTarget) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	keep := make(map[string]bool, len(targets))
	tick := maxHealthTick
	for _, t := range targets {
		keep[t.ID] = true
		timing := t.Check.Timing()
		tick = min(tick, max(timing.Interval/4, minHealthTick))
		if w, ok := m.watched[t.ID]; ok && sameCheck(w.target.Check, t.Check) {
			continue
		}
		m.watched[t.ID] = &watchedHealth{target: t, tracker: newHealthTracker(t, now),
			next: now.Add(time.Duration(m.jitter() * float64(timing.Interval)))}
	}
	for id := range m.watched {
		if !keep[id] {
			delete(m.watched, id)
		}
	}
	if tick != m.tick {
		m.tick = tick
		select {
		case <-m.retick:
		default:
		}
		m.retick <- tick
	}
}

func sameCheck(a, b spec.Healthcheck) bool {
	return slices.Equal(a.Exec, b.Exec) && a.TCP == b.TCP && a.HTTP == b.HTTP &&
		a.Interval == b.Interval && a.Timeout == b.Timeout && a.Retries == b.Retries && a.StartPeriod == b.StartPeriod
}

// schedule starts the checks that are due on every tick until Close.
func (m *HealthMonitor) schedule() {
	ticker := time.NewTicker(maxHealthTick)
	defer ticker.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case d := <-m.retick:
			ticker.Reset(d)
			continue
		case <-ticker.C:
		}
		m.mu.Lock()
		now := m.now()
		for _, w := range m.watched {
			if w.running || now.Before(w.next) {
				continue
			}
			w.running = true
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				m.check(w)
			}()
		}
		m.mu.Unlock()
	}
}

// check runs one check of w and records it, unless w is no longer
// watched by then.
func (m *HealthMonitor) check(w *watchedHealth) {
	err := runCheck(m.ctx, m.checker, w.target.ID, w.target.Check)
	if m.ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	w.running = false
	if m.watched[w.target.ID] != w {
		m.mu.Unlock()
		return // no longer watched, or watched afresh
	}
	if errors.Is(err, driver.ErrNotFound) {
		delete(m.watched, w.target.ID) // the next pass says what runs now
		m.mu.Unlock()
		m.log.Debug("health: container gone, no longer watched", zap.String("name", w.target.Name), zap.String("id", w.target.ID))
		return
	}
	now := m.now()
	was := w.tracker.observe(err, now)
	h := w.tracker.ContainerHealth
	w.next = now.Add(time.Duration((0.9 + 0.2*m.jitter()) * float64(w.tracker.timing.Interval)))
	m.mu.Unlock()
	if was != h.Health {
		m.logTransition(was, h)
	}
}

// logTransition logs a change of health.
func (m *HealthMonitor) logTransition(was Health, h ContainerHealth) {
	fields := []zap.Field{zap.String("name", h.Name), zap.String("id", h.ID), zap.String("from", string(was))}
	switch {
	case h.Health == HealthUnhealthy:
		m.log.Warn("container unhealthy", append(fields, zap.Int("failures", h.Failures), zap.String("lastFailure", h.LastFailure))...)
	case was == HealthUnhealthy:
		m.log.Info("container healthy again", fields...)
	default:
		m.log.Info("container healthy", fields...)
	}
}

// Health returns the health of every watched container, by name.
func (m *HealthMonitor) Health() []ContainerHealth {
	if m == nil {
		return []ContainerHealth{}
	}
	m.mu.Lock()
	out := make([]ContainerHealth, 0, len(m.watched))
	for _, w := range m.watched {
		out = append(out, w.tracker.ContainerHealth)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b ContainerHealth) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Close stops the checks and waits for those in flight.
func (m *HealthMonitor) Close() {
	if m == nil {
		return
	}
	m.cancel()
	m.wg.Wait()
}

// healthTargets are the containers of the desired set that declare a
// healthcheck and run after plan was applied, with the system that runs
// each: the one an action of the plan created, else the live one of this
// owner (observed before the plan) that the plan left alone.
func healthTargets(desired spec.Set, plan *Plan, owner string, now time.Time) []HealthTarget {
	var out []HealthTarget
	var byName map[string]*Action
	for i := range desired.Containers {
		c := &desired.Containers[i]
		if !c.Spec.Healthcheck.Defined() {
			continue
		}
		if byName == nil {
			byName = make(map[string]*Action, len(plan.Actions))
			for j := range plan.Actions {
				byName[plan.Actions[j].Name] = &plan.Actions[j]
			}
		}
		t := HealthTarget{Name: c.Metadata.Name, Check: c.Spec.Healthcheck}
		if a, ok := byName[t.Name]; ok && a.request != nil {
			if a.Status != StatusDone {
				continue // failed, or a dry run: what runs is unknown until the next pass
			}
			t.ID, t.Started = driver.SystemID(a.request.Name, a.request.Owner, a.request.SpecHash), now
		} else if s, ok := runningOf(plan.observed, t.Name, owner); ok {
			t.ID, t.Started = s.ID, s.Created
		} else {
			continue
		}
		out = append(out, t)
	}
	return out
}

// runningOf finds the running system of name and owner in systems.
func runningOf(systems []driver.System, name, owner string) (driver.System, bool) {
	for _, s := range systems {
		if s.Name == name && s.Owner == owner && s.State == driver.StateRunning {
			return s, true
		}
	}
	return driver.System{}, false
}

// CheckOnce runs hc once against the running system s, bounded by hc's
// timeout, and says its health: healthy when the check passes; when it
// fails (or cannot be run), starting within hc's start period since s was
// created, else unhealthy, with what the check saw. It is what a one-shot
// command (no agent, no history of checks) can tell. Errors: ErrNoHealthCheck
// for a driver that cannot run health checks, driver.ErrNotFound for a
// system that is gone.
func CheckOnce(ctx context.Context, d driver.Driver, s driver.System, hc spec.Healthcheck, now time.Time) (ContainerHealth, error) {
	checker, ok := d.(driver.HealthChecker)
	if !ok {
		return ContainerHealth{}, ErrNoHealthCheck
	}
	err := runCheck(ctx, checker, s.ID, hc)
	h := ContainerHealth{Name: s.Name, ID: s.ID, Health: HealthHealthy, Since: now, LastCheck: now}
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, driver.ErrNotFound):
		return ContainerHealth{}, err
	}
	h.Health, h.LastFailure, h.Failures = HealthUnhealthy, err.Error(), 1
	if now.Sub(s.Created) < hc.Timing().StartPeriod {
		h.Health = HealthStarting
	}
	return h, nil
}

// checkAllParallel bounds the checks CheckRunning runs at once.
const checkAllParallel = 8

// CheckRunning runs one check (CheckOnce) of each running system of owner
// whose recorded spec (driver.RequestReader) declares a healthcheck, a
// few at a time, and returns their health by system ID. It is how the
// one-shot status command tells health; a driver that cannot run health
// checks or keeps no specs gives none.
func CheckRunning(ctx context.Context, d driver.Driver, systems []driver.System, owner string, now time.Time) map[string]ContainerHealth {
	reader, ok := d.(driver.RequestReader)
	out := map[string]ContainerHealth{}
	if _, checks := d.(driver.HealthChecker); !ok || !checks {
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, checkAllParallel)
	for _, s := range systems {
		if s.Owner != owner || s.State != driver.StateRunning {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, err := reader.CreatedWith(ctx, s.ID)
			if err != nil || !req.Spec.Healthcheck.Defined() {
				return
			}
			if h, err := CheckOnce(ctx, d, s, req.Spec.Healthcheck, now); err == nil {
				mu.Lock()
				out[s.ID] = h
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// runCheck runs hc once against the system id, bounded by hc's timeout: a
// check with no answer within it fails with driver.ErrUnhealthy.
func runCheck(ctx context.Context, checker driver.HealthChecker, id string, hc spec.Healthcheck) error {
	timeout := hc.Timing().Timeout
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := checker.CheckHealth(cctx, id, hc)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil && !errors.Is(err, driver.ErrUnhealthy) {
		err = fmt.Errorf("%w: no answer within %v: %w", driver.ErrUnhealthy, timeout, err)
	}
	return err
}
