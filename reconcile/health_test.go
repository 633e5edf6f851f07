package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// scriptedHealth answers health checks from a script, one answer per call;
// past its end it repeats the last answer.
type scriptedHealth struct {
	driver.Driver
	mu      sync.Mutex
	answers []error
	calls   int
	onCall  func(n int) // if set, called with the number of calls so far
}

func (s *scriptedHealth) CheckHealth(ctx context.Context, id string, _ spec.Healthcheck) error {
	s.mu.Lock()
	i := min(s.calls, len(s.answers)-1)
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if s.onCall != nil {
		s.onCall(n)
	}
	return s.answers[i]
}

func TestWaitHealthy(t *testing.T) {
	unhealthy := fmt.Errorf("exit code 1: %w", driver.ErrUnhealthy)
	fast := spec.Healthcheck{TCP: 80, Interval: "1ms", Timeout: "1s", StartPeriod: "0s", Retries: 3}
	tests := []struct {
		name      string
		hc        spec.Healthcheck
		answers   []error
		want      error // errors.Is; nil: healthy
		wantCalls int
	}{
		{"healthy at once", fast, []error{nil}, nil, 1},
		{"healthy after two failures", fast, []error{unhealthy, unhealthy, nil}, nil, 3},
		{"unhealthy after the retries", fast, []error{unhealthy}, driver.ErrUnhealthy, 3},
		{"gone", fast, []error{unhealthy, driver.ErrNotFound}, driver.ErrNotFound, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &scriptedHealth{answers: tt.answers}
			err := WaitHealthy(t.Context(), d, "web", tt.hc)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("WaitHealthy = %v, want %v", err, tt.want)
			}
			if d.calls != tt.wantCalls {
				t.Errorf("%d checks, want %d", d.calls, tt.wantCalls)
			}
		})
	}
}

// TestWaitHealthyStartPeriod: failures inside the start period do not
// count, so the wait outlasts the retries and ends with its context.
func TestWaitHealthyStartPeriod(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	d := &scriptedHealth{
		answers: []error{fmt.Errorf("refused: %w", driver.ErrUnhealthy)},
		onCall: func(n int) {
			if n == 5 { // well past Retries: 1
				cancel()
			}
		},
	}
	hc := spec.Healthcheck{TCP: 80, Interval: "1ms", StartPeriod: "1h", Retries: 1}
	err := WaitHealthy(ctx, d, "web", hc)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, driver.ErrUnhealthy) {
		t.Errorf("WaitHealthy = %v, want the cancellation and the last failure", err)
	}
}

func TestWaitHealthyNoChecker(t *testing.T) {
	var d driver.Driver = struct{ driver.Driver }{}
	if err := WaitHealthy(t.Context(), d, "web", spec.Healthcheck{TCP: 80}); !errors.Is(err, ErrNoHealthCheck) {
		t.Errorf("WaitHealthy = %v, want ErrNoHealthCheck", err)
	}
}
