package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// ErrNoHealthCheck: a wait for health on a driver that cannot run health
// checks (it does not implement driver.HealthChecker).
var ErrNoHealthCheck = errors.New("the driver cannot run health checks")

// WaitHealthy runs hc against the compute system id on hc's interval until
// a check passes (nil), or until, after hc's start period, hc.Retries
// checks in a row have failed (the last failure, wrapping
// driver.ErrUnhealthy), or until ctx is done (ctx's error joined with the
// last failure seen, if any). Each check is bounded by hc's timeout.
// Failures during the start period do not count; a pass ends it at once.
// A system that is gone (driver.ErrNotFound) ends the wait with that
// error.
func WaitHealthy(ctx context.Context, d driver.Driver, id string, hc spec.Healthcheck) error {
	checker, ok := d.(driver.HealthChecker)
	if !ok {
		return ErrNoHealthCheck
	}
	// The same rules as the health the monitor keeps: healthTracker.
	tr := newHealthTracker(HealthTarget{ID: id, Check: hc, Started: time.Now()}, time.Now())
	var last error
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if last != nil {
				return errors.Join(ctx.Err(), last)
			}
			return ctx.Err()
		case <-tick.C:
		}
		err := runCheck(ctx, checker, id, hc)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, driver.ErrNotFound):
			return err
		case ctx.Err() != nil:
			continue // reported by the select above
		}
		last = err
		if tr.observe(err, time.Now()); tr.Health == HealthUnhealthy {
			return fmt.Errorf("%d checks failed in a row, the last: %w", tr.Failures, last)
		}
		tick.Reset(tr.timing.Interval)
	}
}
