package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

func TestHealthTracker(t *testing.T) {
	bad := fmt.Errorf("exit code 1: %w", driver.ErrUnhealthy)
	hc := spec.Healthcheck{TCP: 80, Retries: 2, StartPeriod: "10s"}
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	type step struct {
		at   time.Duration // since the start
		err  error
		want Health
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a pass makes it healthy", []step{{1 * time.Second, nil, HealthHealthy}}},
		{"failures in the start period do not count", []step{
			{1 * time.Second, bad, HealthStarting}, {2 * time.Second, bad, HealthStarting}, {3 * time.Second, bad, HealthStarting},
			{11 * time.Second, bad, HealthStarting}, {12 * time.Second, bad, HealthUnhealthy}}},
		{"healthy turns unhealthy after retries failures in a row", []step{
			{1 * time.Second, nil, HealthHealthy}, {2 * time.Second, bad, HealthHealthy}, {3 * time.Second, nil, HealthHealthy},
			{4 * time.Second, bad, HealthHealthy}, {5 * time.Second, bad, HealthUnhealthy}}},
		{"one pass makes an unhealthy one healthy", []step{
			{11 * time.Second, bad, HealthStarting}, {12 * time.Second, bad, HealthUnhealthy}, {13 * time.Second, nil, HealthHealthy}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHealthTracker(HealthTarget{Name: "web", ID: "web_1", Check: hc, Started: t0}, t0)
			for i, s := range tt.steps {
				h.observe(s.err, t0.Add(s.at))
				if h.Health != s.want {
					t.Fatalf("step %d: %s, want %s", i, h.Health, s.want)
				}
				if s.err != nil && h.LastFailure != s.err.Error() {
					t.Errorf("step %d: last failure %q", i, h.LastFailure)
				}
			}
		})
	}
}

// switchableHealth answers every check of a container with its current
// answer, which the test switches.
type switchableHealth struct {
	driver.Driver
	mu     sync.Mutex
	answer map[string]error
	checks map[string]int
}

func (s *switchableHealth) CheckHealth(_ context.Context, id string, _ spec.Healthcheck) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[id]++
	return s.answer[id]
}

func (s *switchableHealth) set(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer[id] = err
}

func (s *switchableHealth) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks[id]
}

func healthOf(m *HealthMonitor, id string) (ContainerHealth, bool) {
	for _, h := range m.Health() {
		if h.ID == id {
			return h, true
		}
	}
	return ContainerHealth{}, false
}

func TestHealthMonitorLogsTransitionsOnce(t *testing.T) {
	d := &switchableHealth{answer: map[string]error{}, checks: map[string]int{}}
	core, logs := observer.New(zap.InfoLevel)
	m := NewHealthMonitor(d, zap.New(core), nil)
	defer m.Close()
	hc := spec.Healthcheck{TCP: 80, Interval: "1ms", Timeout: "1s", Retries: 2, StartPeriod: "0s"}
	m.Set([]HealthTarget{{Name: "web", ID: "web_1", Check: hc}, {Name: "db", ID: "db_1", Check: hc}})
	waitHealth := func(id string, want Health) ContainerHealth {
		t.Helper()
		var h ContainerHealth
		if !testfixture.Eventually(t, func() bool { h, _ = healthOf(m, id); return h.Health == want }) {
			t.Fatalf("%s: %s, want %s", id, h.Health, want)
		}
		return h
	}
	waitHealth("web_1", HealthHealthy)
	d.set("web_1", fmt.Errorf("connection refused: %w", driver.ErrUnhealthy))
	h := waitHealth("web_1", HealthUnhealthy)
	if h.LastFailure != "connection refused: health check failed" {
		t.Errorf("last failure %q", h.LastFailure)
	}
	// Many more failing checks: the transition is logged once.
	n := d.count("web_1")
	if !testfixture.Eventually(t, func() bool { return d.count("web_1") >= n+10 }) {
		t.Fatal("checks stopped")
	}
	if got := logs.FilterMessage("container unhealthy").Len(); got != 1 {
		t.Errorf("unhealthy logged %d times, want once", got)
	}
	d.set("web_1", nil)
	waitHealth("web_1", HealthHealthy)
	if logs.FilterMessage("container healthy again").Len() != 1 {
		t.Errorf("recovery not logged once: %v", logs.All())
	}
	if h, _ := healthOf(m, "db_1"); h.Health != HealthHealthy {
		t.Errorf("db: %s", h.Health)
	}

	// A container no longer a target is no longer checked nor shown.
	m.Set([]HealthTarget{{Name: "web", ID: "web_1", Check: hc}})
	if _, ok := healthOf(m, "db_1"); ok {
		t.Error("db still shown")
	}
	// A container that is gone stops its watch (the next Set decides).
	d.set("web_1", fmt.Errorf("web_1: %w", driver.ErrNotFound))
	n = d.count("web_1")
	m.Close()
	if got := d.count("web_1"); got > n+1 {
		t.Errorf("%d checks after Close", got-n)
	}
}

func TestHealthTargets(t *testing.T) {
	h := newHost(t)
	withCheck := func(c *spec.Container) { c.Spec.Healthcheck = spec.Healthcheck{TCP: 80} }
	running := ctr("old", img2022, spec.IsolationProcess, withCheck)
	applyPlan(t, h, 1, running)
	desired := spec.Set{Containers: []spec.Container{running,
		ctr("new", img2022, spec.IsolationProcess, withCheck),
		ctr("plain", img2022, spec.IsolationProcess)}}
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	ex := &Executor{Driver: h, NewBackOff: fastBackOff}
	plan, err := Converge(context.Background(), h, desired, Policy{Owner: "reconciler"}, ex, false)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]driver.System{}
	sys, _ := h.List(context.Background())
	for _, s := range sys {
		live[s.Name] = s
	}
	got := healthTargets(desired, &plan, "reconciler", now)
	want := []HealthTarget{
		{Name: "old", ID: live["old"].ID, Check: spec.Healthcheck{TCP: 80}, Started: live["old"].Created},
		{Name: "new", ID: live["new"].ID, Check: spec.Healthcheck{TCP: 80}, Started: now},
	}
	if len(got) != len(want) {
		t.Fatalf("targets %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].ID != want[i].ID || !got[i].Started.Equal(want[i].Started) {
			t.Errorf("target %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCheckOnce(t *testing.T) {
	bad := fmt.Errorf("HTTP 503: %w", driver.ErrUnhealthy)
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	hc := spec.Healthcheck{HTTP: spec.HTTPCheck{Path: "/", Port: 80}, StartPeriod: "30s"}
	tests := []struct {
		name    string
		answer  error
		created time.Duration // before now
		want    Health
		wantErr error
	}{
		{"passes", nil, time.Hour, HealthHealthy, nil},
		{"fails after the start period", bad, time.Hour, HealthUnhealthy, nil},
		{"fails within the start period", bad, 10 * time.Second, HealthStarting, nil},
		{"cannot run", errors.New("exec: no such container process"), time.Hour, HealthUnhealthy, nil},
		{"gone", fmt.Errorf("web_1: %w", driver.ErrNotFound), time.Hour, "", driver.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &switchableHealth{answer: map[string]error{"web_1": tt.answer}, checks: map[string]int{}}
			h, err := CheckOnce(context.Background(), d, driver.System{Name: "web", ID: "web_1", Created: now.Add(-tt.created)}, hc, now)
			if !errors.Is(err, tt.wantErr) || h.Health != tt.want {
				t.Fatalf("CheckOnce = %+v, %v; want %s", h, err, tt.want)
			}
			if tt.answer != nil && err == nil && h.LastFailure != tt.answer.Error() {
				t.Errorf("last failure %q", h.LastFailure)
			}
		})
	}
	plain := struct{ driver.Driver }{newHost(t)} // no CheckHealth
	if _, err := CheckOnce(context.Background(), plain, driver.System{}, hc, now); !errors.Is(err, ErrNoHealthCheck) {
		t.Errorf("a driver without health checks: %v, want ErrNoHealthCheck", err)
	}
	if m := NewHealthMonitor(plain, nil, nil); m != nil {
		t.Error("a monitor of a driver without health checks")
	}
}

func TestCheckRunning(t *testing.T) {
	d := newJournaled(t)
	d.health["db"] = []error{fmt.Errorf("exit code 1: %w", driver.ErrUnhealthy)}
	hc := spec.Healthcheck{TCP: 80, StartPeriod: "0s"}
	applyPlan(t, d, 4,
		ctr("web", img2022, spec.IsolationProcess, withHealth(hc)),
		ctr("db", img2022, spec.IsolationProcess, withHealth(hc)),
		ctr("plain", img2022, spec.IsolationProcess))
	systems, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Health{}
	for _, h := range CheckRunning(context.Background(), d, systems, "reconciler", time.Now()) {
		got[h.Name] = h.Health
	}
	if want := map[string]Health{"web": HealthHealthy, "db": HealthUnhealthy}; !maps.Equal(got, want) {
		t.Errorf("health %v, want %v (none for plain: it declares no healthcheck)", got, want)
	}
	if got := CheckRunning(context.Background(), d, systems, "someone-else", time.Now()); len(got) != 0 {
		t.Errorf("health of another owner's containers: %v", got)
	}
}
