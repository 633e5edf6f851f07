package reconcile

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

func TestPlanDrift(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationProcess)
	db := ctr("db", img2022, spec.IsolationProcess)
	webNew := ctr("web", img2019, spec.IsolationProcess)
	dup := func(s *driver.System) { s.ID += "-2"; s.Created = s.Created.Add(-time.Hour) }
	all := Names{"db", "web"}
	tests := []struct {
		name      string
		desired   []spec.Container
		observed  []driver.System
		converged Names
		want      []Drifted
	}{
		{name: "nothing changed", desired: []spec.Container{web, db},
			observed: []driver.System{running(web, spec.IsolationProcess), running(db, spec.IsolationProcess)}, converged: all},
		{name: "vanished", desired: []spec.Container{web, db},
			observed: []driver.System{running(db, spec.IsolationProcess)}, converged: all,
			want: []Drifted{{"web", DriftVanished}}},
		{name: "stopped", desired: []spec.Container{web, db},
			observed: []driver.System{running(web, spec.IsolationProcess, stopped(3)), running(db, spec.IsolationProcess)}, converged: all,
			want: []Drifted{{"web", DriftStopped}}},
		{name: "duplicate", desired: []spec.Container{web},
			observed: []driver.System{running(web, spec.IsolationProcess), running(web, spec.IsolationProcess, dup)}, converged: all,
			want: []Drifted{{"web", DriftDuplicate}}},
		{name: "a manifest change is not drift", desired: []spec.Container{webNew},
			observed: []driver.System{running(web, spec.IsolationProcess)}, converged: all},
		{name: "a stopped system whose manifest changed too is not drift", desired: []spec.Container{webNew},
			observed: []driver.System{running(web, spec.IsolationProcess, stopped(1))}, converged: all},
		{name: "a new container is not drift", desired: []spec.Container{web, db},
			observed: []driver.System{running(db, spec.IsolationProcess)}, converged: Names{"db"}},
		{name: "counted once: the previous pass did not converge it", desired: []spec.Container{web},
			observed: []driver.System{running(web, spec.IsolationProcess, stopped(3))}, converged: Names{}},
		{name: "an undeclared removal is not drift", desired: []spec.Container{web},
			observed: []driver.System{running(web, spec.IsolationProcess), running(db, spec.IsolationProcess)}, converged: all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := ComputePlan(spec.Set{Containers: tt.desired}, tt.observed, server2022, Policy{Owner: "reconciler"})
			if got := plan.Drift(tt.converged); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Drift = %v, want %v (plan %v)", got, tt.want, plan.Actions)
			}
		})
	}
}

func TestPlanConverged(t *testing.T) {
	p := Plan{Unchanged: []string{"a"}, Actions: []Action{
		{Kind: ActionCreate, Name: "b", Status: StatusDone},
		{Kind: ActionRecreate, Name: "c", Status: StatusFailed},
		{Kind: ActionCreate, Name: "d", Status: StatusPlanned},
		{Kind: ActionRemove, Name: "e", Status: StatusDone},
	}}
	if got, want := p.Converged(), (Names{"a", "b"}); !reflect.DeepEqual(got, want) {
		t.Errorf("Converged = %v, want %v", got, want)
	}
}

// TestAgentSuspendedPlansButDoesNotApply: while Suspended says so, passes
// plan and report (suspended) but the host is not changed; once it says
// no more, the next pass applies.
func TestAgentSuspendedPlansButDoesNotApply(t *testing.T) {
	h := newHost(t)
	src := newMemSource(ctr("web", img2022, spec.IsolationProcess))
	reports := make(chan PassReport, 100)
	var suspended atomic.Bool
	suspended.Store(true)
	a := &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Resync: time.Hour, Logger: zaptest.NewLogger(t),
		Suspended: suspended.Load, OnReport: func(r PassReport) { reports <- r }}
	startAgent(t, a)
	r := nextReport(t, reports)
	if !r.Suspended || r.Err != nil || len(r.Plan.Actions) != 1 || r.Plan.Actions[0].Status != StatusPlanned || !r.Plan.DryRun {
		t.Fatalf("suspended pass: %+v, want web's create planned, not applied", r)
	}
	if len(r.Sources) != 1 || r.Sources[0].Name != "mem" || r.Sources[0].Err != nil || r.Pass != 1 || r.Causes[0] != "start" {
		t.Errorf("report sources %+v pass %d causes %v", r.Sources, r.Pass, r.Causes)
	}
	if list, _ := h.List(context.Background()); len(list) != 0 {
		t.Fatalf("a suspended agent changed the host: %v", list)
	}
	suspended.Store(false)
	a.Trigger()
	r = nextReport(t, reports)
	if r.Suspended || len(r.Plan.Actions) != 1 || r.Plan.Actions[0].Status != StatusDone {
		t.Errorf("pass after resume: %+v, want web created", r)
	}
}

func nextReport(t *testing.T, reports chan PassReport) PassReport {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-testfixture.Within(t):
		t.Fatal("no pass report")
		return PassReport{}
	}
}

// TestPlanConvergedShares: a plan that converged nothing beyond its
// unchanged containers gives its Unchanged itself (no copy to keep
// between passes); one that did gives a new sorted set.
func TestPlanConvergedShares(t *testing.T) {
	p := Plan{Unchanged: []string{"a", "c"}, Actions: []Action{{Kind: ActionRemove, Name: "x", Status: StatusDone}}}
	got := p.Converged()
	if !reflect.DeepEqual(got, Names{"a", "c"}) || &got[0] != &p.Unchanged[0] {
		t.Errorf("Converged = %v at %p, want Unchanged itself at %p", got, &got[0], &p.Unchanged[0])
	}
	if !got.Has("c") || got.Has("b") || got.Has("x") {
		t.Errorf("Has: c %v, b %v, x %v; want true, false, false", got.Has("c"), got.Has("b"), got.Has("x"))
	}
	p.Actions = append(p.Actions, Action{Kind: ActionCreate, Name: "b", Status: StatusDone})
	if got := p.Converged(); !reflect.DeepEqual(got, Names{"a", "b", "c"}) || p.Unchanged[1] != "c" {
		t.Errorf("Converged = %v, want [a b c] in a new slice (Unchanged now %v)", got, p.Unchanged)
	}
}
