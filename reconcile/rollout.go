package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// slot is an action's share of Executor.Parallel: held while it calls the
// driver, given back while it waits for a container's health, so that a
// rollout waiting minutes for a Hyper-V container to start does not hold
// up the other containers' work.
type slot struct {
	sem  chan struct{}
	held bool
}

// release gives the slot back. A nil slot (an action run alone) has
// nothing to give.
func (s *slot) release() {
	if s != nil && s.held {
		<-s.sem
		s.held = false
	}
}

// acquire takes a slot again, waiting for one to be free. The work that
// follows a wait (removing the old container, a rollback) must be done
// even after a stop was asked for, so it does not give up on ctx.
func (s *slot) acquire() {
	if s != nil && !s.held {
		s.sem <- struct{}{}
		s.held = true
	}
}

// createAndGate creates a new container (prepared already) and waits for
// its health: the action's error says when it is not healthy. There is
// nothing to roll back to.
func (e *Executor) createAndGate(ctx context.Context, a *Action, sl *slot) error {
	sys, err := e.create(ctx, "create "+a.Name, *a.request)
	if err != nil {
		return err
	}
	if err := e.awaitHealthy(ctx, sl, a.Name, sys, a.request.Spec); err != nil && !errors.Is(err, ErrInterrupted) {
		return fmt.Errorf("created, but not healthy: %w", err)
	} else if err != nil {
		return err
	}
	return nil
}

// recreate removes the old container, creates the new one and waits for
// its health. A create that fails restores the previous spec; a new
// container not healthy within the progress deadline is removed and the
// previous spec restored (autoRollback), or left running.
func (e *Executor) recreate(ctx context.Context, a *Action, sl *slot) error {
	var prev restorePoint
	if len(a.remove) > 0 {
		prev = e.previous(ctx, a.remove[0])
	}
	stopping := time.Now()
	if err := e.removeAll(ctx, a.remove); err != nil {
		return err
	}
	sys, err := e.create(ctx, "create "+a.Name, *a.request)
	if err != nil {
		err = e.restore(ctx, a.Name, prev, fmt.Errorf("create failed: %w", err))
		a.Downtime, a.DowntimeMeasured = time.Since(stopping), true
		return err
	}
	a.Downtime, a.DowntimeMeasured = time.Since(stopping), true
	herr := e.awaitHealthy(ctx, sl, a.Name, sys, a.request.Spec)
	switch {
	case herr == nil || errors.Is(herr, ErrInterrupted):
		return herr
	case prev.req == nil && a.request.Spec.Update.Rollback():
		// No way back: an unhealthy container beats none.
		return fmt.Errorf("%w (no rollback possible: %s): spec %s not healthy: %w", ErrUnhealthyLeft, prev.missing, a.request.SpecHash, herr)
	}
	failure := e.unhealthy(a, previousHash(a), herr)
	if !errors.Is(failure, ErrRolledBack) {
		return failure
	}
	if err := e.removeAll(ctx, []driver.System{sys}); err != nil {
		return fmt.Errorf("%w; removing it failed: %w", failure, err)
	}
	return e.restore(ctx, a.Name, prev, failure)
}

// startFirst creates the new container beside the old one, waits for its
// health, then removes the old one: some container of the name runs all
// along. A new container not healthy within the progress deadline is
// removed and the old one keeps running (autoRollback), or the rollout
// goes on with it (autoRollback: false). A resumed rollout (a.existing)
// starts at the wait.
func (e *Executor) startFirst(ctx context.Context, a *Action, sl *slot) error {
	sys := a.existing
	if sys == nil {
		if err := e.prepareImage(ctx, *a); err != nil {
			return err
		}
		s, err := e.create(ctx, "create "+a.Name, *a.request)
		if err != nil {
			return fmt.Errorf("create failed: %w; the old %s keeps running", err, a.Name)
		}
		sys = &s
	}
	a.Downtime, a.DowntimeMeasured = 0, true
	herr := e.awaitHealthy(ctx, sl, a.Name, *sys, a.request.Spec)
	switch {
	case errors.Is(herr, ErrInterrupted):
		return fmt.Errorf("%w; the new spec %s and the old %s both run: the next pass resumes", herr, a.request.SpecHash, previousHash(a))
	case herr != nil:
		failure := e.unhealthy(a, previousHash(a), herr)
		if errors.Is(failure, ErrRolledBack) {
			if err := e.removeAll(ctx, []driver.System{*sys}); err != nil {
				return fmt.Errorf("%w; removing it failed: %w", failure, err)
			}
			return fmt.Errorf("%w; the previous spec (%s) kept running", failure, previousHash(a))
		}
		if err := e.removeAll(ctx, a.remove); err != nil {
			return fmt.Errorf("%w; removing the old container failed: %w", failure, err)
		}
		return failure
	}
	if err := e.removeAll(ctx, a.remove); err != nil {
		return fmt.Errorf("the new spec %s is healthy; removing the old container failed: %w", a.request.SpecHash, err)
	}
	return nil
}

// removeAll removes the systems; one already gone counts as removed.
func (e *Executor) removeAll(ctx context.Context, systems []driver.System) error {
	for _, s := range systems {
		err := e.call(ctx, "remove "+s.ID, func(ctx context.Context) error {
			return e.Driver.Remove(ctx, s.ID, or(e.StopGrace, DefaultStopGrace))
		})
		if err != nil && !errors.Is(err, driver.ErrNotFound) {
			return err
		}
	}
	return nil
}

// previousHash is the spec hash of the container a recreate replaces.
func previousHash(a *Action) string {
	if len(a.remove) == 0 {
		return orNone("")
	}
	return orNone(a.remove[0].SpecHash)
}

// unhealthy is what a rollout whose new container failed its health gate
// with herr becomes: with autoRollback (the default), an error wrapping
// ErrRolledBack that names both spec hashes and the failure, recorded in
// Executor.Rollbacks before anything is rolled back (a crash half way
// never retries it) and in a.RolledBack; without it, ErrUnhealthyLeft.
func (e *Executor) unhealthy(a *Action, prevHash string, herr error) error {
	req := a.request
	if !req.Spec.Update.Rollback() {
		e.logger().Warn("new container not healthy: left running (autoRollback is off)", zap.String("name", a.Name),
			zap.String("specHash", req.SpecHash), zap.String("previousSpecHash", prevHash), zap.Error(herr))
		return fmt.Errorf("%w (autoRollback is off): spec %s not healthy: %w", ErrUnhealthyLeft, req.SpecHash, herr)
	}
	rec := RollbackRecord{SpecHash: req.SpecHash, PreviousSpecHash: prevHash, Reason: herr.Error(), At: time.Now().UTC()}
	a.RolledBack = &rec
	e.logger().Warn("new container not healthy: rolling back", zap.String("name", a.Name),
		zap.String("specHash", req.SpecHash), zap.String("previousSpecHash", prevHash), zap.Error(herr))
	if err := e.Rollbacks.Record(a.Name, rec); err != nil {
		e.logger().Error("rolled-back spec not recorded: a restart would try it again", zap.String("name", a.Name), zap.Error(err))
	}
	return fmt.Errorf("%w: spec %s not healthy: %w", ErrRolledBack, req.SpecHash, herr)
}

// awaitHealthy waits until the new system sys of name is healthy: with
// s.Healthcheck when it has one (WaitHealthy, within s.Update's progress
// deadline, the action's slot given back meanwhile), else it must run.
// Errors: driver.ErrUnhealthy (or driver.ErrNotFound) when it is not;
// ErrInterrupted when ctx ended the wait.
func (e *Executor) awaitHealthy(ctx context.Context, sl *slot, name string, sys driver.System, s spec.ContainerSpec) error {
	if sys.State != driver.StateRunning {
		return fmt.Errorf("%w: %s is %s, not running", driver.ErrUnhealthy, sys.ID, sys.State)
	}
	hc := s.Healthcheck
	if !hc.Defined() {
		return nil
	}
	deadline := s.Update.Deadline()
	log := e.logger().With(zap.String("name", name), zap.String("id", sys.ID))
	log.Info("waiting for health", zap.Duration("progressDeadline", deadline))
	sl.release()
	defer sl.acquire()
	wctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	start := time.Now()
	err := WaitHealthy(wctx, e.Driver, sys.ID, hc)
	switch {
	case err == nil:
		log.Info("healthy", zap.Duration("after", time.Since(start)))
		return nil
	case errors.Is(err, ErrNoHealthCheck):
		log.Warn("the driver cannot run health checks: a running container counts as healthy")
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	case wctx.Err() != nil:
		return fmt.Errorf("not within %s (progressDeadline), the last check: %w", deadline, lastCheck(err, wctx.Err()))
	}
	return err
}

// lastCheck is the failure WaitHealthy joined to its context's error
// ctxErr, or a plain "no check answered" when there was none.
func lastCheck(err, ctxErr error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != ctxErr {
				return e
			}
		}
	}
	if errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: no check answered", driver.ErrUnhealthy)
	}
	return err
}

// Downtime is the longest downtime of the plan's recreates carried out
// (see Action.Downtime); ok is false when none was measured.
func (p *Plan) Downtime() (d time.Duration, ok bool) {
	for _, a := range p.Actions {
		if a.DowntimeMeasured && a.Status != StatusHeld {
			d, ok = max(d, a.Downtime), true
		}
	}
	return d, ok
}
