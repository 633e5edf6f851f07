package reconcile

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

// newHost opens a fresh emulated host (Windows Server 2022).
func newHost(t *testing.T) *sim.EmulatedHost {
	t.Helper()
	h, err := sim.Open(filepath.Join(t.TempDir(), "host.json"), zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// concurrency wraps a driver and records the most calls in flight at once.
type concurrency struct {
	driver.Driver
	inFlight, most atomic.Int32
}

func (c *concurrency) track() func() {
	n := c.inFlight.Add(1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { c.inFlight.Add(-1) }
}

func (c *concurrency) Create(ctx context.Context, req driver.CreateRequest) (driver.System, error) {
	defer c.track()()
	return c.Driver.Create(ctx, req)
}

func (c *concurrency) Remove(ctx context.Context, id string, grace time.Duration) error {
	defer c.track()()
	return c.Driver.Remove(ctx, id, grace)
}

func fastBackOff() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }

// planFor plans the containers against the host's live state.
func planFor(t *testing.T, d driver.Driver, cs ...spec.Container) Plan {
	t.Helper()
	ctx := context.Background()
	host, err := d.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	observed, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ComputePlan(spec.Set{Containers: cs}, observed, host, Policy{Owner: "reconciler", AllowMassRemoval: true})
}

func names(n int) []spec.Container {
	out := make([]spec.Container, n)
	for i := range out {
		out[i] = ctr(string(rune('a'+i))+"-app", img2022, spec.IsolationProcess)
	}
	return out
}

func statuses(p Plan) map[string]Status {
	out := map[string]Status{}
	for _, a := range p.Actions {
		out[string(a.Kind)+" "+a.Name] = a.Status
	}
	return out
}

func TestExecutorAppliesWithBoundedParallelism(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	if err := h.SetFaults(ctx, sim.Faults{Latency: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	d := &concurrency{Driver: h}
	plan := planFor(t, d, names(8)...)
	var observed []string
	ex := &Executor{Driver: d, Parallel: 3, Logger: zaptest.NewLogger(t), Observe: func(a Action) { observed = append(observed, a.Name) }}
	ex.Apply(ctx, &plan)
	for k, s := range statuses(plan) {
		if s != StatusDone {
			t.Errorf("%s: %s", k, s)
		}
	}
	if len(observed) != 8 {
		t.Errorf("observed %d outcomes, want 8", len(observed))
	}
	if m := d.most.Load(); m > 3 || m < 2 {
		t.Errorf("at most %d calls in flight, want 2..3 (Parallel 3)", m)
	}
	live, _ := h.List(ctx)
	if len(live) != 8 {
		t.Errorf("%d systems live, want 8", len(live))
	}
}

func TestExecutorRetriesTransientFailures(t *testing.T) {
	tests := []struct {
		name       string
		faults     sim.Faults
		retries    uint
		wantStatus Status
		wantErr    error
	}{
		{name: "transient failures are retried", faults: sim.Faults{TransientFailures: 2}, retries: 5, wantStatus: StatusDone},
		{name: "retries run out", faults: sim.Faults{TransientFailures: 5}, retries: 2, wantStatus: StatusFailed, wantErr: driver.ErrTransient},
		{name: "permanent failures are not retried", faults: sim.Faults{FailNames: []string{"a-app"}}, retries: 5, wantStatus: StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			ctx := context.Background()
			if err := h.SetFaults(ctx, tt.faults); err != nil {
				t.Fatal(err)
			}
			plan := planFor(t, h, names(1)...)
			ex := &Executor{Driver: h, Retries: tt.retries, NewBackOff: fastBackOff, Logger: zaptest.NewLogger(t)}
			ex.Apply(ctx, &plan)
			a := plan.Actions[0]
			if a.Status != tt.wantStatus {
				t.Fatalf("status %s (%v), want %s", a.Status, a.Err, tt.wantStatus)
			}
			if tt.wantErr != nil && !errors.Is(a.Err, tt.wantErr) {
				t.Errorf("error %v, want %v", a.Err, tt.wantErr)
			}
			if tt.wantStatus == StatusFailed {
				if live, _ := h.List(ctx); len(live) != 0 {
					t.Errorf("a failed create left %v", live)
				}
			}
		})
	}
}

func TestExecutorRecreateReplacesTheOldSystem(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	ex := &Executor{Driver: h, Logger: zaptest.NewLogger(t)}
	plan := planFor(t, h, ctr("web", img2022, spec.IsolationProcess))
	ex.Apply(ctx, &plan)
	plan = planFor(t, h, ctr("web", img2022, spec.IsolationHyperV))
	if got := statuses(plan); got["recreate web"] != StatusPlanned {
		t.Fatalf("plan %v, want a recreate", got)
	}
	ex.Apply(ctx, &plan)
	if plan.Actions[0].Status != StatusDone {
		t.Fatalf("recreate: %v", plan.Actions[0].Err)
	}
	live, _ := h.List(ctx)
	if len(live) != 1 || live[0].Isolation != spec.IsolationHyperV {
		t.Errorf("live %+v, want one hyperv web", live)
	}
}

func TestExecutorStopsStartingWhenCancelled(t *testing.T) {
	h := newHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	plan := planFor(t, h, names(3)...)
	(&Executor{Driver: h, Logger: zaptest.NewLogger(t)}).Apply(ctx, &plan)
	for _, a := range plan.Actions {
		if a.Status != StatusFailed || !errors.Is(a.Err, context.Canceled) {
			t.Errorf("%s: %s %v, want failed: not started", a, a.Status, a.Err)
		}
	}
	if live, _ := h.List(context.Background()); len(live) != 0 {
		t.Errorf("created %v after cancel", live)
	}
}

func TestExecutorLetsInFlightOperationsFinish(t *testing.T) {
	h := newHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.SetFaults(ctx, sim.Faults{Latency: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	d := &concurrency{Driver: h}
	plan := planFor(t, d, names(2)...)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		(&Executor{Driver: d, Parallel: 2, Logger: zaptest.NewLogger(t)}).Apply(ctx, &plan)
	}()
	if !testfixture.Eventually(t, func() bool { return d.inFlight.Load() >= 2 }) {
		t.Fatalf("%d creates in flight, want 2", d.inFlight.Load())
	}
	cancel()
	wg.Wait()
	for _, a := range plan.Actions {
		if a.Status != StatusDone {
			t.Errorf("%s: %s %v, want done: in-flight work finishes after cancel", a, a.Status, a.Err)
		}
	}
}

func TestExecutorTimesOutEachOperation(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	if err := h.SetFaults(ctx, sim.Faults{Latency: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	plan := planFor(t, h, names(1)...)
	(&Executor{Driver: h, Timeout: 50 * time.Millisecond, Logger: zaptest.NewLogger(t)}).Apply(ctx, &plan)
	if a := plan.Actions[0]; a.Status != StatusFailed || !errors.Is(a.Err, context.DeadlineExceeded) {
		t.Errorf("%s: %s %v, want failed with deadline exceeded", a, a.Status, a.Err)
	}
}

// withPort publishes host port 8080.
func withPort(c *spec.Container) {
	c.Spec.Ports = []spec.Port{{HostPort: 8080, ContainerPort: 80}}
}

// forgetful is a driver that keeps no record of what it created: it is no
// driver.RequestReader, so a recreate has nothing to restore.
type forgetful struct{ driver.Driver }

// misrecorded is a driver whose records disagree with the live host.
type misrecorded struct{ *sim.EmulatedHost }

func (m misrecorded) CreatedWith(ctx context.Context, id string) (driver.CreateRequest, error) {
	req, err := m.EmulatedHost.CreatedWith(ctx, id)
	req.SpecHash = "v1-stale"
	return req, err
}

func TestExecutorRecreateNeverLeavesNothing(t *testing.T) {
	const newImage = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
	before := ctr("web", img2022, spec.IsolationProcess)
	tests := []struct {
		name string
		// wrap, if set, is the driver the executor uses.
		wrap   func(*sim.EmulatedHost) driver.Driver
		faults sim.Faults
		after  spec.Container
		// wantErr are the parts of the action's error, in order.
		wantErr []string
		// wantLive is the spec hash web runs with afterwards; "" for none.
		wantLive string
		// wantLoud: an error-level line names both failures.
		wantLoud bool
	}{
		{name: "create fails: the previous spec is restored",
			faults: sim.Faults{FailPorts: []int{8080}}, after: ctr("web", img2022, spec.IsolationProcess, withPort),
			wantErr:  []string{"create failed: ", "host port 8080 is taken", "; restored the previous spec (" + before.Spec.Hash() + ")"},
			wantLive: before.Spec.Hash()},
		{name: "create fails on an isolation change: the previous isolation is restored",
			faults:  sim.Faults{FailPorts: []int{8080}},
			after:   ctr("web", img2022, spec.IsolationHyperV, withPort),
			wantErr: []string{"create failed: ", "restored the previous spec"}, wantLive: before.Spec.Hash()},
		{name: "every new spec of the name fails: the previous spec is restored",
			faults: sim.Faults{FailNames: []string{"web"}}, after: ctr("web", newImage, spec.IsolationProcess),
			wantErr:  []string{"create failed: ", "injected permanent failure", "; restored the previous spec (" + before.Spec.Hash() + ")"},
			wantLive: before.Spec.Hash()},
		{name: "create and restore fail: loud",
			faults: sim.Faults{FailImages: []string{img2022}, FailPorts: []int{8080}}, after: ctr("web", newImage, spec.IsolationProcess, withPort),
			wantErr: []string{"create failed: ", "host port 8080 is taken", "; restoring the previous spec (" + before.Spec.Hash() + ") failed too: ",
				"pull " + img2022 + ": injected failure", "; web is NOT running"},
			wantLoud: true},
		{name: "image preparation fails: the old container is untouched",
			faults: sim.Faults{FailImages: []string{newImage}}, after: ctr("web", newImage, spec.IsolationProcess),
			wantErr:  []string{"image not ready: ", "pull " + newImage + ": injected failure", "the old web was left untouched"},
			wantLive: before.Spec.Hash()},
		{name: "no record of the previous spec: as before, and says so",
			wrap:   func(h *sim.EmulatedHost) driver.Driver { return forgetful{h} },
			faults: sim.Faults{FailPorts: []int{8080}}, after: ctr("web", img2022, spec.IsolationProcess, withPort),
			wantErr: []string{"create failed: ", "; no restore possible (the driver keeps no record", "web is NOT running"}},
		{name: "a record that disagrees with the live system is not restored",
			wrap:   func(h *sim.EmulatedHost) driver.Driver { return misrecorded{h} },
			faults: sim.Faults{FailPorts: []int{8080}}, after: ctr("web", img2022, spec.IsolationProcess, withPort),
			wantErr: []string{"create failed: ", "no restore possible (the recorded spec (v1-stale, process) does not match the live system"}},
		{name: "a recreate that works replaces the old system",
			after: ctr("web", newImage, spec.IsolationProcess), wantLive: ctr("web", newImage, spec.IsolationProcess).Spec.Hash()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			ctx := context.Background()
			var d driver.Driver = h
			if tt.wrap != nil {
				d = tt.wrap(h)
			}
			core, logs := observer.New(zap.WarnLevel)
			ex := &Executor{Driver: d, NewBackOff: fastBackOff, Logger: zap.New(core)}
			first := planFor(t, h, before)
			ex.Apply(ctx, &first)
			if first.Failed() {
				t.Fatalf("first create: %+v", first.Actions)
			}
			old, _ := h.List(ctx)
			if err := h.SetFaults(ctx, tt.faults); err != nil {
				t.Fatal(err)
			}
			plan := planFor(t, h, tt.after)
			if got := statuses(plan); len(got) != 1 || got["recreate web"] != StatusPlanned {
				t.Fatalf("plan %v, want one recreate", got)
			}
			ex.Apply(ctx, &plan)
			a := plan.Actions[0]
			if len(tt.wantErr) == 0 {
				if a.Status != StatusDone {
					t.Errorf("status %s (%v), want done", a.Status, a.Err)
				}
			} else {
				if a.Status != StatusFailed || a.Err == nil {
					t.Fatalf("status %s (%v), want failed", a.Status, a.Err)
				}
				requireInOrder(t, a.Err.Error(), tt.wantErr)
			}
			live, err := h.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantLive == "" && len(live) != 0:
				t.Errorf("live %+v, want nothing", live)
			case tt.wantLive != "" && (len(live) != 1 || live[0].SpecHash != tt.wantLive || live[0].State != driver.StateRunning):
				t.Errorf("live %+v, want web running with %s", live, tt.wantLive)
			case tt.wantLive == before.Spec.Hash() && (live[0].Isolation != old[0].Isolation || live[0].Image != old[0].Image):
				t.Errorf("live %+v, want it as before: %+v", live[0], old[0])
			}
			loud := logs.FilterLevelExact(zap.ErrorLevel).FilterFieldKey("restoreError").FilterFieldKey("createError")
			if got := loud.Len() == 1; got != tt.wantLoud {
				t.Errorf("%d error lines naming both failures, want loud=%v; all lines: %v", loud.Len(), tt.wantLoud, logs.All())
			}
		})
	}
}

func TestExecutorPreparesImagesBeforeCreating(t *testing.T) {
	const image = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
	h := newHost(t)
	ctx := context.Background()
	if err := h.SetFaults(ctx, sim.Faults{FailImages: []string{image}}); err != nil {
		t.Fatal(err)
	}
	plan := planFor(t, h, ctr("web", image, spec.IsolationProcess), ctr("api", img2022, spec.IsolationProcess))
	(&Executor{Driver: h, NewBackOff: fastBackOff, Logger: zaptest.NewLogger(t)}).Apply(ctx, &plan)
	got := map[string]string{}
	for _, a := range plan.Actions {
		got[a.Name] = string(a.Status)
		if a.Err != nil {
			got[a.Name] += ": " + a.Err.Error()
		}
	}
	want := map[string]string{"api": "done", "web": "failed: image not ready: prepare image: pull " + image + ": injected failure: manifest unknown"}
	if !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

// requireInOrder fails the test unless s holds parts in this order.
func requireInOrder(t *testing.T, s string, parts []string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		if i < 0 {
			t.Errorf("error %q: want %q (after the parts before it)", s, p)
			return
		}
		rest = rest[i+len(p):]
	}
}
