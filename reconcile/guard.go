package reconcile

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Bounds of a pass.
const (
	// DefaultReadTimeout bounds each read of the host (Driver.Host,
	// Driver.List) when Executor.ReadTimeout is 0.
	DefaultReadTimeout = time.Minute
	// DefaultPassTimeout bounds a pass of the agent when Agent.PassTimeout
	// is 0: past it, no further read or action starts.
	DefaultPassTimeout = 30 * time.Minute
	// maxStuckReads is how many abandoned reads (see readBounded) may
	// still be parked in the driver before the agent stops starting new
	// ones: a host that never answers costs that many goroutines, not one
	// per pass.
	maxStuckReads = 4
)

// Error classes of a pass, checked with errors.Is.
var (
	// ErrReadTimeout: a read of the host did not answer within its
	// timeout. The pass gave up waiting; the read may still be running.
	ErrReadTimeout = errors.New("host read timed out")
	// ErrPassTimeout: a pass ran past its deadline; what had not started
	// then was not started.
	ErrPassTimeout = errors.New("pass deadline passed")
	// ErrHostStuck: earlier reads of the host are still waiting for it,
	// so no new one was started.
	ErrHostStuck = errors.New("host reads still stuck")
)

// readBounds is how the reads of a pass are bounded.
type readBounds struct {
	timeout time.Duration
	// expire, if set, replaces the timer of timeout (tests): a read is
	// given up when the channel it returns yields.
	expire func() <-chan time.Time
	// stuck, if set, counts the reads given up on whose driver call has
	// not returned yet; onUnstuck, if set, is called when one returns.
	stuck     *atomic.Int32
	onUnstuck func()
}

// readBounded runs read with a deadline of b.timeout and waits for it no
// longer than that (nor than ctx): a driver call that ignores its context
// cannot hold the caller.
//
// The call runs in its own goroutine. When the wait is given up, that
// goroutine is abandoned, not killed (Go cannot): it stays parked in the
// driver until the call returns, then sends its result into a buffered
// channel nobody reads and exits, so it never leaks past the call itself.
// While b.stuck counts maxStuckReads such goroutines, no new read starts
// (ErrHostStuck), so a host that never answers costs a bounded number of
// goroutines. A panic in read is carried back and raised again in the
// caller's goroutine, with the stack where it happened (see passPanic),
// where the pass's recover catches it.
func readBounded[T any](ctx context.Context, b readBounds, read func(context.Context) (T, error)) (T, error) {
	var zero T
	if b.stuck != nil && b.stuck.Load() >= maxStuckReads {
		return zero, fmt.Errorf("%w: %d earlier reads have not returned", ErrHostStuck, b.stuck.Load())
	}
	if ctx.Err() != nil {
		return zero, context.Cause(ctx) // a read not started cannot wedge
	}
	timeout := or(b.timeout, DefaultReadTimeout)
	expired := b.expire
	if expired == nil {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = func() <-chan time.Time { return t.C }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type result struct {
		v     T
		err   error
		panic *passPanic
	}
	done := make(chan result, 1) // buffered: an abandoned call still sends, and exits
	go func() {
		var r result
		defer func() { done <- r }()
		defer func() {
			if p := recover(); p != nil {
				r.panic = &passPanic{value: p, stack: debug.Stack()}
			}
		}()
		r.v, r.err = read(ctx)
	}()
	select {
	case r := <-done:
		if r.panic != nil {
			panic(r.panic)
		}
		return r.v, r.err
	case <-ctx.Done():
	case <-expired():
		cancel(fmt.Errorf("%w after %s", ErrReadTimeout, timeout))
	}
	// Given up: count the goroutine until its call returns.
	if b.stuck != nil {
		b.stuck.Add(1)
		go func() {
			<-done
			b.stuck.Add(-1)
			if b.onUnstuck != nil {
				b.onUnstuck()
			}
		}()
	}
	return zero, context.Cause(ctx)
}

// passPanic is a panic raised in a goroutine of a pass and carried to the
// pass's own goroutine, with the stack where it happened.
type passPanic struct {
	value any
	stack []byte
}

func (p *passPanic) String() string { return fmt.Sprint(p.value) }
