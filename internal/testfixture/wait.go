package testfixture

import (
	"testing"
	"time"
)

// reportMargin is how long before the test binary's deadline a wait gives
// up, so that the test fails with what it saw instead of being killed by
// `go test -timeout` with a dump of every goroutine.
const reportMargin = 30 * time.Second

// pollEvery is how often Eventually looks again.
const pollEvery = 10 * time.Millisecond

// Patience is how long a test may wait for something it expects to happen.
// It is not a guess at how long the thing takes: it is the time left before
// the test binary's own deadline (go test -timeout), less a margin to
// report, so that a loaded machine makes a test slower and never red. A
// test without a deadline (-timeout 0) waits as long as it takes.
func Patience(t testing.TB) time.Duration {
	d, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return 24 * time.Hour
	}
	deadline, ok := d.Deadline()
	if !ok {
		return 24 * time.Hour
	}
	left := time.Until(deadline)
	return max(left-min(reportMargin, left/2), 0)
}

// Within returns a channel that is closed when the test's patience runs
// out: the case a select on an expected event falls back to.
func Within(t testing.TB) <-chan time.Time {
	return time.After(Patience(t))
}

// Eventually looks at cond until it holds and reports whether it did
// before the test's patience ran out. cond is an observable (a file, a
// state, a counter); Eventually never stands for a fixed delay.
func Eventually(t testing.TB, cond func() bool) bool {
	t.Helper()
	giveUp := time.Now().Add(Patience(t))
	for !cond() {
		if time.Now().After(giveUp) {
			return false
		}
		time.Sleep(pollEvery)
	}
	return true
}
