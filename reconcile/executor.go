package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Executor defaults.
const (
	DefaultParallel  = 4
	DefaultTimeout   = 10 * time.Minute
	DefaultStopGrace = 30 * time.Second
	DefaultRetries   = 5
)

// ErrNotStarted marks an action that was not started because the pass was
// stopped or ran past its deadline: it says nothing of its spec.
var ErrNotStarted = errors.New("not started")

// ErrPanicked marks an action whose driver call panicked.
var ErrPanicked = errors.New("panicked")

// Executor applies plans to a host.
type Executor struct {
	Driver driver.Driver
	// Parallel bounds how many actions run at once (DefaultParallel if 0).
	Parallel int
	// Timeout bounds each driver call, retries included (DefaultTimeout if
	// 0).
	Timeout time.Duration
	// ReadTimeout bounds each read of the host by Converge (Driver.Host,
	// Driver.List), and how long it is waited for (DefaultReadTimeout if
	// 0).
	ReadTimeout time.Duration
	// StopGrace is how long a removed container gets to shut down before
	// it is terminated (DefaultStopGrace if 0).
	StopGrace time.Duration
	// Retries is how many times a transient failure is tried (DefaultRetries
	// if 0).
	Retries uint
	// NewBackOff makes the wait between retries; exponential from 200 ms if
	// nil.
	NewBackOff func() backoff.BackOff
	Logger     *zap.Logger
	// Observe, if set, is called as each action finishes (one call at a
	// time), for progress reporting.
	Observe func(Action)
	// Rollbacks, if set, keeps the specs rolled back for failing their
	// health gate, so that no later pass tries them again (see
	// Policy.RolledBack).
	Rollbacks *Rollbacks
}

// Apply executes the plan's actions and records each one's outcome in it;
// held actions are left as they are. Removals run first, then recreates and creates, at most Parallel at a
// time. When ctx is done no further action starts (those left are marked
// failed); the ones in flight run to completion or to their own timeout,
// so a stop never leaves a half-made change behind that the next pass
// could not see. Apply returns once nothing is in flight.
//
// Dependencies (spec dependsOn) order each phase: a create or recreate
// starts once each dependency is running, or healthy (WaitHealthy, within
// the dependency's update.progressDeadline) when its condition says so;
// one whose dependency fails or is not ready is not carried out
// (ErrDependencyNotReady, saying why). Removals go in reverse: a container
// is removed after those that depend on it. See depGraph.
func (e *Executor) Apply(ctx context.Context, plan *Plan) {
	var removals, rest []int
	for i, a := range plan.Actions {
		if a.Status == StatusHeld {
			continue // a safety rule holds it: never carried out
		}
		if a.Kind == ActionRemove {
			removals = append(removals, i)
		} else {
			rest = append(rest, i)
		}
	}
	var mu sync.Mutex // serialises Observe and writes to plan.Actions
	for p, phase := range [][]int{removals, rest} {
		if g := e.dependencyGraph(ctx, plan, phase, &mu, p == 0); g != nil {
			g.run(ctx, phase, e.parallel())
			continue
		}
		e.runPhase(ctx, plan, phase, &mu)
	}
}

func (e *Executor) parallel() int {
	if e.Parallel <= 0 {
		return DefaultParallel
	}
	return e.Parallel
}

func (e *Executor) runPhase(ctx context.Context, plan *Plan, idx []int, mu *sync.Mutex) {
	sem := make(chan struct{}, e.parallel())
	var wg sync.WaitGroup
	for _, i := range idx {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			e.notStarted(ctx, plan, i, mu)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sl := &slot{sem: sem, held: true}
			defer sl.release()
			e.runOne(ctx, plan, i, mu, sl)
		}()
	}
	wg.Wait()
}

// notStarted marks action i as not started because ctx is done.
func (e *Executor) notStarted(ctx context.Context, plan *Plan, i int, mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
	plan.Actions[i].Status = StatusFailed
	plan.Actions[i].Err = fmt.Errorf("%w: %w", ErrNotStarted, context.Cause(ctx))
}

// runOne carries out action i, holding the parallel slot sl (given back
// while it waits for health), and records its outcome.
func (e *Executor) runOne(ctx context.Context, plan *Plan, i int, mu *sync.Mutex, sl *slot) {
	mu.Lock()
	a := plan.Actions[i]
	mu.Unlock()
	start := time.Now()
	err := e.applyGuarded(ctx, &a, sl)
	e.finish(plan, i, a, time.Since(start), err, mu)
}

// finish records the outcome err of action a (plan.Actions[i]), logs it
// and reports it to Observe.
func (e *Executor) finish(plan *Plan, i int, a Action, took time.Duration, err error, mu *sync.Mutex) {
	a.Duration = took
	a.Status, a.Err = StatusDone, err
	if err != nil {
		a.Status = StatusFailed
	}
	e.log(a)
	mu.Lock()
	defer mu.Unlock()
	plan.Actions[i] = a
	if e.Observe != nil {
		e.Observe(a)
	}
}

// applyGuarded is apply with a panic in it (a driver bug) turned into
// the action's failure, logged with its stack: the other actions, the
// pass and the agent go on, and the pass records what it did.
func (e *Executor) applyGuarded(ctx context.Context, a *Action, sl *slot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e.logger().Error("action panicked: it counts as failed", zap.String("action", string(a.Kind)),
				zap.String("name", a.Name), zap.Any("panic", r), zap.Stack("stack"))
			err = fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	return e.apply(ctx, a, sl)
}

// apply carries out one action, recording what it measured (downtime, a
// rollback) in a. Its driver calls are not cancelled with ctx: each is
// bounded by its own timeout instead; a wait for health ends with ctx.
//
// A create or recreate first has the driver prepare the image (when it is
// a driver.ImagePreparer), so a pull that fails leaves the old container
// untouched. A recreate then reads back the request the old system was
// created with (when the driver is a driver.RequestReader) before it
// removes it: if the new create fails, that request is created again and
// the error says both outcomes. A startFirst recreate creates the new
// container before it removes the old one (see startFirst). Every new
// container must then be healthy within its progress deadline (see
// awaitHealthy), or the rollout is rolled back (see unhealthy).
func (e *Executor) apply(ctx context.Context, a *Action, sl *slot) error {
	switch {
	case a.Kind == ActionRemove:
		return e.removeAll(ctx, a.remove)
	case a.Kind == ActionRecreate && a.Strategy == spec.UpdateStartFirst:
		return e.startFirst(ctx, a, sl)
	}
	if err := e.prepareImage(ctx, *a); err != nil {
		return err
	}
	if a.Kind == ActionRecreate {
		return e.recreate(ctx, a, sl)
	}
	return e.createAndGate(ctx, a, sl)
}

// prepareImage has a driver that fetches images make a's image ready
// before anything is stopped.
func (e *Executor) prepareImage(ctx context.Context, a Action) error {
	p, ok := e.Driver.(driver.ImagePreparer)
	if !ok {
		return nil
	}
	err := e.call(ctx, "prepare image "+a.Image, func(ctx context.Context) error {
		return p.PrepareImage(ctx, *a.request)
	})
	switch {
	case err == nil:
		return nil
	case a.Kind == ActionRecreate:
		return fmt.Errorf("image not ready: %w; the old %s was left untouched", err, a.Name)
	default:
		return fmt.Errorf("image not ready: %w", err)
	}
}

// restorePoint is what a recreate can restore if its create fails: the
// request the old system was created with, or why there is none.
type restorePoint struct {
	req     *driver.CreateRequest
	missing string
}

// previous reads back the request the live system old was created with. It
// must agree with what the host shows of old (name, owner, spec hash,
// isolation), so a stale record can never restore something else.
func (e *Executor) previous(ctx context.Context, old driver.System) restorePoint {
	var rp restorePoint
	if r, ok := e.Driver.(driver.RequestReader); !ok {
		rp.missing = "the driver keeps no record of the spec a container was created with"
	} else {
		var req driver.CreateRequest
		err := e.call(ctx, "read the spec of "+old.ID, func(ctx context.Context) error {
			var err error
			req, err = r.CreatedWith(ctx, old.ID)
			return err
		})
		if err != nil {
			rp.missing = "its spec could not be read back: " + err.Error()
		} else if rp.missing = recordMismatch(req, old); rp.missing == "" {
			rp.req = &req
		}
	}
	if rp.req == nil {
		e.logger().Warn("recreating without a way back: if the new spec fails, the container stays down",
			zap.String("name", old.Name), zap.String("id", old.ID), zap.String("why", rp.missing))
	}
	return rp
}

// recordMismatch says how the recorded request req of the live system old
// disagrees with what the host shows of old (name, owner, spec hash,
// isolation), or "" when it agrees: a stale record is never used, to
// restore or to describe.
func recordMismatch(req driver.CreateRequest, old driver.System) string {
	if req.Name == old.Name && req.Owner == old.Owner && req.SpecHash == old.SpecHash && req.Isolation == old.Isolation {
		return ""
	}
	return fmt.Sprintf("the recorded spec (%s, %s) does not match the live system (%s, %s)",
		orNone(req.SpecHash), req.Isolation, orNone(old.SpecHash), old.Isolation)
}

// restore creates the previous spec again after a recreate's new spec
// failed (failure: "create failed: …", or a rollback's health failure),
// and returns the action's error, which says both outcomes. A restore
// that fails too is logged at error level: the container is down.
func (e *Executor) restore(ctx context.Context, name string, prev restorePoint, failure error) error {
	if prev.req == nil {
		return fmt.Errorf("%w; no restore possible (%s); %s is NOT running", failure, prev.missing, name)
	}
	_, err := e.create(ctx, "restore "+name, *prev.req)
	if err == nil {
		return fmt.Errorf("%w; restored the previous spec (%s)", failure, orNone(prev.req.SpecHash))
	}
	e.logger().Error("recreate failed and restoring the previous spec failed too: the container is NOT running",
		zap.String("name", name), zap.String("previousSpecHash", prev.req.SpecHash),
		zap.NamedError("createError", failure), zap.NamedError("restoreError", err))
	return fmt.Errorf("%w; restoring the previous spec (%s) failed too: %w; %s is NOT running",
		failure, orNone(prev.req.SpecHash), err, name)
}

// create asks the driver for one system and returns it as observed.
func (e *Executor) create(ctx context.Context, what string, req driver.CreateRequest) (driver.System, error) {
	var sys driver.System
	err := e.call(ctx, what, func(ctx context.Context) error {
		var err error
		sys, err = e.Driver.Create(ctx, req)
		return err
	})
	return sys, err
}

// call runs one driver operation with its own timeout, retrying transient
// failures with backoff.
func (e *Executor) call(ctx context.Context, what string, op func(context.Context) error) error {
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), or(e.Timeout, DefaultTimeout))
	defer cancel()
	var b backoff.BackOff
	if e.NewBackOff != nil {
		b = e.NewBackOff()
	} else {
		eb := backoff.NewExponentialBackOff()
		eb.InitialInterval = 200 * time.Millisecond
		eb.MaxInterval = 5 * time.Second
		b = eb
	}
	tries := e.Retries
	if tries == 0 {
		tries = DefaultRetries
	}
	_, err := backoff.Retry(opCtx, func() (struct{}, error) {
		err := op(opCtx)
		if err != nil && !errors.Is(err, driver.ErrTransient) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(b), backoff.WithMaxTries(tries), backoff.WithNotify(func(err error, wait time.Duration) {
		e.logger().Info("transient failure, retrying", zap.String("operation", what), zap.Error(err), zap.Duration("wait", wait))
	}))
	return err
}

// log reports one action's outcome, with its reason.
func (e *Executor) log(a Action) {
	fields := []zap.Field{zap.String("action", string(a.Kind)), zap.String("name", a.Name),
		zap.String("isolation", string(a.Isolation)), zap.String("reason", a.Reason), zap.Duration("duration", a.Duration)}
	if a.Strategy != "" {
		fields = append(fields, zap.String("strategy", string(a.Strategy)))
	}
	if a.DowntimeMeasured {
		fields = append(fields, zap.Duration("downtime", a.Downtime))
	}
	switch {
	case errors.Is(a.Err, ErrDependencyNotReady):
		e.logger().Warn("action not carried out: a dependency is not ready; the next pass tries again", append(fields, zap.Error(a.Err))...)
		return
	case a.Err != nil:
		e.logger().Error("action failed", append(fields, zap.Error(a.Err))...)
		return
	}
	e.logger().Info("action done", fields...)
}

func (e *Executor) logger() *zap.Logger {
	if e.Logger == nil {
		return zap.NewNop()
	}
	return e.Logger
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
