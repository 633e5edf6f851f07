package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/spec"
)

func TestRetryBackoffRecord(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	recreate := func(name, hash string, st Status) Action {
		return Action{Kind: ActionRecreate, Name: name, Status: st, Err: errors.New("port taken"), request: &driver.CreateRequest{SpecHash: hash}}
	}
	tests := []struct {
		name  string
		plans [][]Action // one plan per minute from t0
		at    time.Duration
		want  map[string]Deferral
	}{
		{name: "a failure defers a minute", plans: [][]Action{{recreate("web", "v1-b", StatusFailed)}},
			at: 59 * time.Second, want: map[string]Deferral{"web": {SpecHash: "v1-b", Until: t0.Add(time.Minute), Failures: 1, Err: "port taken"}}},
		{name: "and no longer", plans: [][]Action{{recreate("web", "v1-b", StatusFailed)}}, at: time.Minute, want: map[string]Deferral{}},
		{name: "the delay doubles for the same spec", plans: [][]Action{{recreate("web", "v1-b", StatusFailed)}, {recreate("web", "v1-b", StatusFailed)}},
			at: time.Minute, want: map[string]Deferral{"web": {SpecHash: "v1-b", Until: t0.Add(3 * time.Minute), Failures: 2, Err: "port taken"}}},
		{name: "a new spec starts over", plans: [][]Action{{recreate("web", "v1-b", StatusFailed)}, {recreate("web", "v1-c", StatusFailed)}},
			at: time.Minute, want: map[string]Deferral{"web": {SpecHash: "v1-c", Until: t0.Add(2 * time.Minute), Failures: 1, Err: "port taken"}}},
		{name: "a success forgets", plans: [][]Action{{recreate("web", "v1-b", StatusFailed)}, {recreate("web", "v1-b", StatusDone)}},
			at: time.Minute, want: map[string]Deferral{}},
		{name: "a recreate never started does not count", plans: [][]Action{{{Kind: ActionRecreate, Name: "web", Status: StatusFailed,
			Err: fmt.Errorf("%w: %w", ErrNotStarted, ErrPassTimeout), request: &driver.CreateRequest{SpecHash: "v1-b"}}}},
			want: map[string]Deferral{}},
		{name: "creates and removals do not count", plans: [][]Action{{{Kind: ActionCreate, Name: "a", Status: StatusFailed, request: &driver.CreateRequest{}}, {Kind: ActionRemove, Name: "b", Status: StatusFailed}}},
			want: map[string]Deferral{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r RetryBackoff
			for i, actions := range tt.plans {
				r.Record(t0.Add(time.Duration(i)*time.Minute), Plan{Actions: actions})
			}
			got := r.Active(t0.Add(tt.at))
			if len(got) != len(tt.want) {
				t.Fatalf("active = %+v, want %+v", got, tt.want)
			}
			for name, w := range tt.want {
				if g := got[name]; g != w {
					t.Errorf("%s = %+v, want %+v", name, g, w)
				}
			}
		})
	}
	t.Run("capped", func(t *testing.T) {
		var r RetryBackoff
		for i := range 20 {
			r.Record(t0, Plan{Actions: []Action{recreate("web", "v1-b", StatusFailed)}})
			if d := r.failed["web"].Until.Sub(t0); d > MaxRetryDelay || (i >= 5 && d != MaxRetryDelay) {
				t.Fatalf("failure %d: delay %v, want at most and then %v", i+1, d, MaxRetryDelay)
			}
		}
	})
}

// TestAgentDefersAFailedRecreate: a new spec that cannot be created is
// restored to the old one and not tried again every pass (which would stop
// the running container each time), but after a delay that doubles; a
// resync inside the delay leaves the container alone.
func TestAgentDefersAFailedRecreate(t *testing.T) {
	h := newHost(t)
	old := ctr("web", img2022, spec.IsolationProcess)
	withPort := ctr("web", img2022, spec.IsolationProcess, func(c *spec.Container) {
		c.Spec.Ports = []spec.Port{{HostPort: 8081, ContainerPort: 80, Protocol: "tcp"}}
	})
	src := newMemSource(old)
	var (
		mu  sync.Mutex
		now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	got := newPasses()
	a := &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Resync: time.Hour, Logger: zaptest.NewLogger(t), OnPass: got.add, Now: clock}
	startAgent(t, a)
	got.next(t, "web is created", func(p Plan) bool { return p.Counts().Create == 1 })
	<-src.ready
	if err := h.SetFaults(context.Background(), sim.Faults{FailPorts: []int{8081}}); err != nil {
		t.Fatal(err)
	}

	recreate := func(st Status) func(Plan) bool {
		return func(p Plan) bool { return p.Counts().Recreate == 1 && p.Actions[0].Status == st }
	}
	deferred := func(p Plan) bool {
		return p.Counts().Recreate == 0 && len(p.Warnings) == 1 && strings.Contains(p.Warnings[0].Message, "deferred until")
	}
	src.set(spec.Set{Containers: []spec.Container{withPort}})
	plan := got.next(t, "the recreate fails and is restored", recreate(StatusFailed))
	if !strings.Contains(plan.Actions[0].Err.Error(), "restored the previous spec") {
		t.Fatalf("recreate error %v, want the previous spec restored", plan.Actions[0].Err)
	}
	a.Trigger()
	got.next(t, "a resync defers it", deferred)
	advance(time.Minute)
	a.Trigger()
	got.next(t, "after a minute it is tried again", recreate(StatusFailed))
	advance(time.Minute)
	a.Trigger()
	plan = got.next(t, "then it waits two minutes", deferred)
	if !strings.Contains(plan.Warnings[0].Message, "failed 2 time(s)") {
		t.Errorf("warning %q, want the count", plan.Warnings[0].Message)
	}
	if err := h.SetFaults(context.Background(), sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	advance(time.Minute)
	a.Trigger()
	got.next(t, "once the port is free, the new spec runs", recreate(StatusDone))
}
