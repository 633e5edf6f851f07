package statusapi

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func TestMetricsObserve(t *testing.T) {
	d := listDriver{systems: []driver.System{
		{Name: "web", Owner: "reconciler", Isolation: spec.IsolationProcess, State: driver.StateRunning},
		{Name: "db", Owner: "reconciler", Isolation: spec.IsolationHyperV, State: driver.StateStopped},
		{Name: "iis", Owner: "docker", Isolation: spec.IsolationProcess, State: driver.StateRunning},
	}}
	suspended := false
	m := NewMetrics(d, "reconciler", func() bool { return suspended })
	end := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	ok := reconcile.PassReport{Started: end.Add(-2 * time.Second), Duration: 2 * time.Second,
		Sources: []reconcile.SourceReport{{Name: "git https://h/r@main", Revision: "c1"}, {Name: "dir /m"}},
		Plan: reconcile.Plan{Unchanged: []string{"db"}, Actions: []reconcile.Action{
			{Kind: reconcile.ActionCreate, Name: "web", Status: reconcile.StatusDone},
			{Kind: reconcile.ActionRemove, Name: "old", Status: reconcile.StatusHeld},
		}}}
	m.Observe(ok)
	failed := ok
	failed.Sources = []reconcile.SourceReport{{Name: "git https://h/r@main", Revision: "c2"}, {Name: "dir /m", Err: errors.New("gone")}}
	failed.Plan = reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.ActionRecreate, Name: "db", Status: reconcile.StatusFailed}},
		Errors: []spec.Problem{{File: "a.yaml"}}}
	m.Observe(failed)
	m.Observe(reconcile.PassReport{Err: errors.New("read host: timeout"), Duration: time.Second, Sources: failed.Sources})
	suspended = true
	if n := testutil.CollectAndCount(m.revision); n != 2 {
		t.Errorf("%d source_info series, want 2 (the old revision gone)", n)
	}

	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.passes.WithLabelValues(PassSucceeded), 1},
		{m.passes.WithLabelValues(PassFailed), 1},
		{m.passes.WithLabelValues(PassError), 1},
		{m.actions.WithLabelValues("create", "done"), 1},
		{m.actions.WithLabelValues("recreate", "failed"), 1},
		{m.actions.WithLabelValues("remove", "held"), 0},
		{m.held, 0},
		{m.problems.WithLabelValues("error"), 1},
		{m.lastSuccess, float64(end.Unix())},
		{m.revision.WithLabelValues("git https://h/r@main", "c2"), 1},
		{m.sourceUp.WithLabelValues("dir /m"), 0},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: %v, want %v", i, got, c.want)
		}
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`reconciler_containers{isolation="process",state="running"} 1`,
		`reconciler_containers{isolation="hyperv",state="stopped"} 1`,
		`reconciler_pass_duration_seconds_count 3`,
		`reconciler_suspended 1`,
		`reconciler_drift_total{kind="stopped"} 0`,
		"go_goroutines", "process_",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if strings.Contains(body, `state="running"} 2`) {
		t.Errorf("another owner's container counted:\n%s", body)
	}
}

func TestMetricsDriftOncePerOccurrence(t *testing.T) {
	m := NewMetrics(listDriver{}, "reconciler", nil)
	converged := reconcile.PassReport{Plan: reconcile.Plan{Unchanged: []string{"web"}}}
	vanished := reconcile.PassReport{Plan: reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.ActionCreate, Name: "web", Status: reconcile.StatusPlanned}}}}
	for _, r := range []reconcile.PassReport{converged, vanished, vanished, vanished} {
		m.Observe(r)
	}
	if got := testutil.ToFloat64(m.drift.WithLabelValues(reconcile.DriftVanished)); got != 1 {
		t.Errorf("drift vanished = %v over a vanish planned three times (suspended), want 1", got)
	}
}

func TestMetricsListFailureKeepsTheRest(t *testing.T) {
	m := NewMetrics(listDriver{err: errors.New("hcs down")}, "reconciler", nil)
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "reconciler_passes_total") || strings.Contains(rec.Body.String(), "reconciler_containers{") {
		t.Errorf("a failed list: %d\n%s\nwant the other families served", rec.Code, rec.Body)
	}
}
