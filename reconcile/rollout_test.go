package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/spec"
)

// healthHost is the emulated host with health checks (a double of
// driver.HealthChecker): a system is healthy unless its spec hash is in
// failing, or as check says when set. It records the fewest running
// systems of a name seen right after any Remove.
type healthHost struct {
	*sim.EmulatedHost
	mu         sync.Mutex
	failing    map[string]bool
	check      func(ctx context.Context, id string) error
	minRunning map[string]int
}

var _ driver.HealthChecker = (*healthHost)(nil)

func newHealthHost(t *testing.T) *healthHost {
	return &healthHost{EmulatedHost: newHost(t), failing: map[string]bool{}, minRunning: map[string]int{}}
}

func (h *healthHost) CheckHealth(ctx context.Context, id string, _ spec.Healthcheck) error {
	if h.check != nil {
		return h.check(ctx, id)
	}
	_, hash, _ := driver.ParseSystemID(id)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing[hash] {
		return fmt.Errorf("exit code 1: %w", driver.ErrUnhealthy)
	}
	return nil
}

func (h *healthHost) fail(c spec.Container) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing[c.Spec.Hash()] = true
}

func (h *healthHost) Remove(ctx context.Context, id string, grace time.Duration) error {
	err := h.EmulatedHost.Remove(ctx, id, grace)
	name, _, _ := driver.ParseSystemID(id)
	n := h.running(ctx, name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if m, ok := h.minRunning[name]; !ok || n < m {
		h.minRunning[name] = n
	}
	return err
}

// running counts the running systems of name.
func (h *healthHost) running(ctx context.Context, name string) int {
	list, _ := h.List(ctx)
	n := 0
	for _, s := range list {
		if s.Name == name && s.State == driver.StateRunning {
			n++
		}
	}
	return n
}

// fewestRunning is the fewest running systems of name seen after a
// Remove, and whether any Remove of it happened.
func (h *healthHost) fewestRunning(name string) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.minRunning[name]
	return n, ok
}

// quickCheck is a health check that judges at once: no start period, two
// failures in a row, 1 ms apart.
var quickCheck = spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}, Interval: "1ms", Timeout: "1s", StartPeriod: "0s", Retries: 2}

// web returns the container web of image img, with a health check and
// update strategy; mods change it further.
func webWith(img string, strategy spec.UpdateStrategy, mods ...func(*spec.Container)) spec.Container {
	return ctr("web", img, spec.IsolationProcess, append([]func(*spec.Container){func(c *spec.Container) {
		c.Spec.Healthcheck = quickCheck
		c.Spec.Update.Strategy = strategy
	}}, mods...)...)
}

const img2022Nano = "mcr.microsoft.com/windows/nanoserver:ltsc2022"

// rollout converges h to before, then to after with the executor ex (its
// driver set to h) and the rollback records r, and returns the second plan.
func rollout(t *testing.T, h *healthHost, r *Rollbacks, before, after spec.Container) Plan {
	t.Helper()
	ctx := context.Background()
	ex := &Executor{Driver: h, Logger: zaptest.NewLogger(t), NewBackOff: fastBackOff, Rollbacks: r}
	if p, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{before}}, Policy{Owner: "reconciler"}, ex, false); err != nil || p.Failed() {
		t.Fatalf("first pass: %v %v", err, p.Actions)
	}
	plan, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{after}}, Policy{Owner: "reconciler", RolledBack: r.Active()}, ex, false)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// liveHashes are the spec hashes of the running systems of name.
func liveHashes(t *testing.T, d driver.Driver, name string) []string {
	t.Helper()
	var out []string
	for _, s := range listHost(t, d) {
		if s.Name == name && s.State == driver.StateRunning {
			out = append(out, s.SpecHash)
		}
	}
	return out
}

func TestRolloutHealthy(t *testing.T) {
	for _, strategy := range []spec.UpdateStrategy{spec.UpdateRecreate, spec.UpdateStartFirst} {
		t.Run(string(strategy), func(t *testing.T) {
			h := newHealthHost(t)
			before, after := webWith(img2022, strategy), webWith(img2022Nano, strategy)
			plan := rollout(t, h, nil, before, after)
			a := plan.Actions[0]
			if a.Status != StatusDone || a.Strategy != strategy || !a.DowntimeMeasured {
				t.Fatalf("%s: %s %v, strategy %q (downtime measured %t), want done with %s", a, a.Status, a.Err, a.Strategy, a.DowntimeMeasured, strategy)
			}
			if got := liveHashes(t, h, "web"); len(got) != 1 || got[0] != after.Spec.Hash() {
				t.Errorf("running %v, want only the new spec %s", got, after.Spec.Hash())
			}
			fewest, _ := h.fewestRunning("web")
			switch strategy {
			case spec.UpdateStartFirst:
				if fewest != 1 || a.Downtime != 0 {
					t.Errorf("startFirst: %d running after the old one's removal (downtime %s), want 1 (0)", fewest, a.Downtime)
				}
			default:
				if fewest != 0 || a.Downtime <= 0 {
					t.Errorf("recreate: %d running after the removal (downtime %s), want 0 (> 0)", fewest, a.Downtime)
				}
			}
		})
	}
}

func TestRolloutUnhealthyIsRolledBackAndHeld(t *testing.T) {
	for _, strategy := range []spec.UpdateStrategy{spec.UpdateRecreate, spec.UpdateStartFirst} {
		t.Run(string(strategy), func(t *testing.T) {
			h := newHealthHost(t)
			path := filepath.Join(t.TempDir(), "rollbacks.json")
			r, err := LoadRollbacks(path)
			if err != nil {
				t.Fatal(err)
			}
			before, after := webWith(img2022, strategy), webWith(img2022Nano, strategy)
			h.fail(after)
			plan := rollout(t, h, r, before, after)
			a := plan.Actions[0]
			if a.Status != StatusFailed || !errors.Is(a.Err, ErrRolledBack) || !errors.Is(a.Err, driver.ErrUnhealthy) {
				t.Fatalf("%s: %s %v, want failed, rolled back for its health", a, a.Status, a.Err)
			}
			for _, want := range []string{before.Spec.Hash(), after.Spec.Hash(), "exit code 1"} {
				if !strings.Contains(a.Err.Error(), want) {
					t.Errorf("error %q does not name %q", a.Err, want)
				}
			}
			if got := liveHashes(t, h, "web"); len(got) != 1 || got[0] != before.Spec.Hash() {
				t.Errorf("running %v, want the previous spec %s again", got, before.Spec.Hash())
			}
			if fewest, _ := h.fewestRunning("web"); strategy == spec.UpdateStartFirst && fewest != 1 {
				t.Errorf("startFirst rollback: %d running after a removal, want 1 all along", fewest)
			}

			// The record survives a restart: the next pass holds the
			// failed spec and touches nothing.
			r2, err := LoadRollbacks(path)
			if err != nil {
				t.Fatal(err)
			}
			rec, ok := r2.Active()["web"]
			if !ok || rec.SpecHash != after.Spec.Hash() || rec.PreviousSpecHash != before.Spec.Hash() || !strings.Contains(rec.Reason, "exit code 1") {
				t.Fatalf("record %+v (%t), want web %s → %s with the health failure", rec, ok, after.Spec.Hash(), before.Spec.Hash())
			}
			guard := guardDryRun(t, h.EmulatedHost)
			next, err := Converge(context.Background(), guard, spec.Set{Containers: []spec.Container{after}}, Policy{Owner: "reconciler", RolledBack: r2.Active()}, &Executor{Driver: guard}, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(next.Actions) != 1 || next.Actions[0].Status != StatusHeld || !strings.Contains(next.Actions[0].HoldReason, "until the manifest changes") {
				t.Fatalf("next pass %v, want the recreate held until the manifest changes", next.Actions)
			}
			if calls := guard.calls(); len(calls) > 0 {
				t.Errorf("a held rollout called %q", calls)
			}
			var text bytes.Buffer
			if err := WriteText(&text, next, false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "~? held: web: spec "+after.Spec.Hash()+" was rolled back to "+before.Spec.Hash()) {
				t.Errorf("text plan does not say the hold:\n%s", text.String())
			}
			if err := r2.Keep(next.RolledBackNames()); err != nil || len(r2.Active()) != 1 {
				t.Errorf("the record in force was dropped (%v)", err)
			}

			// A changed manifest is tried, and its record forgotten.
			fixed := webWith(img2022Nano, strategy, func(c *spec.Container) { c.Spec.Env = map[string]string{"FIXED": "1"} })
			again, err := Converge(context.Background(), h, spec.Set{Containers: []spec.Container{fixed}}, Policy{Owner: "reconciler", RolledBack: r2.Active()}, &Executor{Driver: h, Rollbacks: r2}, false)
			if err != nil || len(again.Actions) != 1 || again.Actions[0].Status != StatusDone {
				t.Fatalf("changed manifest: %v %v, want it rolled out", err, again.Actions)
			}
			if err := r2.Keep(again.RolledBackNames()); err != nil || len(r2.Active()) != 0 {
				t.Errorf("records %v after the manifest changed (%v), want none", r2.Active(), err)
			}
		})
	}
}

func TestRolloutWithoutAutoRollbackLeavesTheNewOne(t *testing.T) {
	off := func(c *spec.Container) { c.Spec.Update.AutoRollback = new(bool) }
	for _, strategy := range []spec.UpdateStrategy{spec.UpdateRecreate, spec.UpdateStartFirst} {
		t.Run(string(strategy), func(t *testing.T) {
			h := newHealthHost(t)
			before, after := webWith(img2022, strategy, off), webWith(img2022Nano, strategy, off)
			h.fail(after)
			r := &Rollbacks{}
			plan := rollout(t, h, r, before, after)
			a := plan.Actions[0]
			if a.Status != StatusFailed || !errors.Is(a.Err, ErrUnhealthyLeft) || a.RolledBack != nil {
				t.Fatalf("%s: %s %v, want failed, left unhealthy", a, a.Status, a.Err)
			}
			if got := liveHashes(t, h, "web"); len(got) != 1 || got[0] != after.Spec.Hash() {
				t.Errorf("running %v, want the new spec %s left", got, after.Spec.Hash())
			}
			if len(r.Active()) != 0 {
				t.Errorf("recorded %v, want nothing rolled back", r.Active())
			}
		})
	}
}

func TestStrategyFallsBackWhenTheTwoCannotCoexist(t *testing.T) {
	base := webWith(img2022, spec.UpdateStartFirst)
	oldSys := running(base, spec.IsolationProcess)
	tests := []struct {
		name     string
		old      *spec.ContainerSpec // nil: unknown
		mod      func(*spec.Container)
		oldState driver.State
		want     spec.UpdateStrategy
		note     string
	}{
		{name: "image change", mod: func(c *spec.Container) { c.Spec.Image = img2022Nano }, want: spec.UpdateStartFirst},
		{name: "same host port", mod: func(c *spec.Container) { c.Spec.Image = img2022Nano; withPort(c) }, want: spec.UpdateRecreate,
			note: "startFirst falls back to recreate: both publish host port 8080 (the old container's spec is unknown: taken to be the same)"},
		{name: "the old spec known without the port", old: &base.Spec, mod: func(c *spec.Container) { c.Spec.Image = img2022Nano; withPort(c) }, want: spec.UpdateStartFirst},
		{name: "same port, other protocol", old: &spec.ContainerSpec{Ports: []spec.Port{{HostPort: 8080, ContainerPort: 80, Protocol: "udp"}}},
			mod: func(c *spec.Container) { c.Spec.Image = img2022Nano; withPort(c) }, want: spec.UpdateStartFirst},
		{name: "a host path both mount writable", old: &spec.ContainerSpec{Mounts: []spec.Mount{{HostPath: `C:\data\`, ContainerPath: `C:\d`}}},
			mod: func(c *spec.Container) {
				c.Spec.Mounts = []spec.Mount{{HostPath: `c:/DATA`, ContainerPath: `C:\d`}}
			}, want: spec.UpdateRecreate, note: `startFirst falls back to recreate: both mount host path c:/DATA writable`},
		{name: "a host path one mounts read-only", old: &spec.ContainerSpec{Mounts: []spec.Mount{{HostPath: `C:\data`, ContainerPath: `C:\d`, ReadOnly: true}}},
			mod: func(c *spec.Container) {
				c.Spec.Mounts = []spec.Mount{{HostPath: `C:\data`, ContainerPath: `C:\d`}}
			}, want: spec.UpdateStartFirst},
		{name: "a host named pipe", old: &spec.ContainerSpec{NamedPipes: []spec.NamedPipe{{HostPipe: `\\.\pipe\docker_engine`, ContainerPipe: `\\.\pipe\d`}}},
			mod: func(c *spec.Container) {
				c.Spec.NamedPipes = []spec.NamedPipe{{HostPipe: `\\.\pipe\docker_engine`, ContainerPipe: `\\.\pipe\d`}}
			}, want: spec.UpdateRecreate, note: `startFirst falls back to recreate: both map host named pipe \\.\pipe\docker_engine`},
		{name: "an isolation change only", mod: func(c *spec.Container) { c.Spec.Isolation = spec.IsolationHyperV }, want: spec.UpdateRecreate,
			note: "startFirst falls back to recreate: the new container would have the same compute system ID (only its isolation changes)"},
		{name: "the old one is not running", oldState: driver.StateStopped, mod: func(c *spec.Container) { c.Spec.Image = img2022Nano }, want: spec.UpdateRecreate},
		{name: "recreate asked", mod: func(c *spec.Container) { c.Spec.Image = img2022Nano; c.Spec.Update.Strategy = "" }, want: spec.UpdateRecreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.Spec.Mounts, c.Spec.Ports = nil, nil
			tt.mod(&c)
			iso := spec.IsolationProcess
			if c.Spec.Isolation == spec.IsolationHyperV {
				iso = spec.IsolationHyperV
			}
			req := driver.CreateRequest{Name: "web", Owner: "reconciler", SpecHash: c.Spec.Hash(), Isolation: iso, Spec: c.Spec}
			old := oldSys
			if tt.oldState != "" {
				old.State = tt.oldState
			}
			got, note := strategyFor(old, tt.old, &req)
			if got != tt.want || note != tt.note {
				t.Errorf("strategyFor = %s, %q; want %s, %q", got, note, tt.want, tt.note)
			}
		})
	}
}

func TestPlanShowsTheStrategy(t *testing.T) {
	h := newHealthHost(t)
	before := webWith(img2022, spec.UpdateStartFirst, withPort)
	after := webWith(img2022Nano, spec.UpdateStartFirst, withPort)
	plan := rollout(t, h, nil, before, after)
	a := plan.Actions[0]
	if a.Strategy != spec.UpdateRecreate || a.StrategyNote != "startFirst falls back to recreate: both publish host port 8080" {
		t.Fatalf("strategy %q, note %q; want recreate, falling back for the port (the old spec read back)", a.Strategy, a.StrategyNote)
	}
	var text, js bytes.Buffer
	if err := WriteText(&text, plan, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, plan); err != nil {
		t.Fatal(err)
	}
	requireInOrder(t, text.String(), []string{"~ web", "recreate", "recreate", "process", "image " + img2022 + " → " + img2022Nano, "; startFirst falls back to recreate: both publish host port 8080", "done"})
	requireInOrder(t, js.String(), []string{`"strategy": "recreate"`, `"strategyNote": "startFirst falls back to recreate: both publish host port 8080"`})
}

// TestRolloutResumesAnInterruptedStartFirst: a crash between "new created"
// and "old removed" leaves two systems of one name; the next pass keeps
// the new one only once it is healthy, and never removes the only running
// one for an unhealthy one.
func TestRolloutResumesAnInterruptedStartFirst(t *testing.T) {
	for _, healthy := range []bool{true, false} {
		t.Run(fmt.Sprintf("healthy=%t", healthy), func(t *testing.T) {
			h := newHealthHost(t)
			ctx := context.Background()
			before, after := webWith(img2022, spec.UpdateStartFirst), webWith(img2022Nano, spec.UpdateStartFirst)
			ex := &Executor{Driver: h, Logger: zaptest.NewLogger(t)}
			if _, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{before}}, Policy{Owner: "reconciler"}, ex, false); err != nil {
				t.Fatal(err)
			}
			duplicate(t, h.EmulatedHost, after) // the crash: the new one created, the old one not removed
			if !healthy {
				h.fail(after)
			}
			plan, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{after}}, Policy{Owner: "reconciler"}, ex, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Actions) != 1 || plan.Actions[0].Strategy != spec.UpdateStartFirst || !strings.Contains(plan.Actions[0].Reason, "startFirst interrupted") {
				t.Fatalf("plan %v, want the startFirst resumed", plan.Actions)
			}
			want := after.Spec.Hash()
			if !healthy {
				want = before.Spec.Hash()
			}
			if got := liveHashes(t, h, "web"); len(got) != 1 || got[0] != want {
				t.Errorf("running %v, want %s only", got, want)
			}
			if fewest, _ := h.fewestRunning("web"); fewest != 1 {
				t.Errorf("%d running after a removal, want 1 all along", fewest)
			}
		})
	}
}

// TestRolloutInterruptedBySIGTERM: a stop during the wait for health ends
// it at once, rolls nothing back, and leaves both containers for the next
// pass to resume.
func TestRolloutInterruptedBySIGTERM(t *testing.T) {
	h := newHealthHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before, after := webWith(img2022, spec.UpdateStartFirst), webWith(img2022Nano, spec.UpdateStartFirst)
	ex := &Executor{Driver: h, Logger: zaptest.NewLogger(t)}
	if _, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{before}}, Policy{Owner: "reconciler"}, ex, false); err != nil {
		t.Fatal(err)
	}
	h.check = func(context.Context, string) error {
		cancel() // the stop arrives while the new container starts
		return fmt.Errorf("starting: %w", driver.ErrUnhealthy)
	}
	r := &Rollbacks{}
	ex.Rollbacks = r
	plan, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{after}}, Policy{Owner: "reconciler"}, ex, false)
	if err != nil {
		t.Fatal(err)
	}
	if a := plan.Actions[0]; !errors.Is(a.Err, ErrInterrupted) || a.RolledBack != nil {
		t.Fatalf("%s: %v, want interrupted, nothing rolled back", a, a.Err)
	}
	if got := liveHashes(t, h, "web"); len(got) != 2 || len(r.Active()) != 0 {
		t.Errorf("running %v, records %v; want both specs running, nothing recorded", got, r.Active())
	}
}

// TestHealthWaitGivesBackItsSlot: with one action at a time, a create
// waiting for its health does not keep another create from running: the
// first becomes healthy only once the second exists.
func TestHealthWaitGivesBackItsSlot(t *testing.T) {
	h := newHealthHost(t)
	slow := ctr("a-slow", img2022, spec.IsolationProcess, func(c *spec.Container) {
		c.Spec.Healthcheck = quickCheck
		c.Spec.Healthcheck.Retries = 1 << 30
	})
	other := ctr("b-other", img2022, spec.IsolationProcess)
	h.check = func(ctx context.Context, id string) error {
		if h.running(ctx, "b-other") == 1 {
			return nil
		}
		return fmt.Errorf("waiting for b-other: %w", driver.ErrUnhealthy)
	}
	plan := planFor(t, h, slow, other)
	(&Executor{Driver: h, Parallel: 1, Logger: zaptest.NewLogger(t)}).Apply(context.Background(), &plan)
	for k, s := range statuses(plan) {
		if s != StatusDone {
			t.Errorf("%s: %s", k, s)
		}
	}
}

func TestRolloutNotHealthyWithinTheDeadline(t *testing.T) {
	h := newHealthHost(t)
	h.check = func(context.Context, string) error { return fmt.Errorf("connection refused: %w", driver.ErrUnhealthy) }
	c := ctr("web", img2022, spec.IsolationProcess, func(c *spec.Container) {
		c.Spec.Healthcheck = quickCheck
		c.Spec.Healthcheck.Retries = 1 << 30 // only the deadline ends the wait
		c.Spec.Update.ProgressDeadline = "20ms"
	})
	plan := planFor(t, h, c)
	(&Executor{Driver: h, Logger: zaptest.NewLogger(t)}).Apply(context.Background(), &plan)
	a := plan.Actions[0]
	if a.Status != StatusFailed || !errors.Is(a.Err, driver.ErrUnhealthy) || !strings.Contains(a.Err.Error(), "not within 20ms (progressDeadline), the last check: connection refused") {
		t.Errorf("%s: %s %v, want failed, not healthy within the deadline", a, a.Status, a.Err)
	}
}

// TestAgentDoesNotRetryARolledBackSpec: the agent rolls back a new spec
// that fails its health gate, records it, holds it on the passes that
// follow (a restarted agent too, from the record) and logs the hold once,
// and rolls out the next change of the manifest.
func TestAgentDoesNotRetryARolledBackSpec(t *testing.T) {
	h := newHealthHost(t)
	path := filepath.Join(t.TempDir(), "rollbacks.json")
	before, after := webWith(img2022, spec.UpdateStartFirst), webWith(img2022Nano, spec.UpdateStartFirst)
	h.fail(after)
	start := func(c spec.Container) (*memSource, *passes, *observer.ObservedLogs, func() error) {
		r, err := LoadRollbacks(path)
		if err != nil {
			t.Fatal(err)
		}
		core, logs := observer.New(zap.InfoLevel)
		src, got := newMemSource(c), newPasses()
		stop := startAgent(t, &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h}, Rollbacks: r,
			Policy: Policy{Owner: "reconciler"}, Resync: 20 * time.Millisecond, Logger: zap.New(core), OnPass: got.add})
		return src, got, logs, stop
	}
	src, got, _, stop := start(before)
	got.next(t, "web runs", func(p Plan) bool { return p.Counts().Create == 1 })
	<-src.ready
	src.set(spec.Set{Containers: []spec.Container{after}})
	got.next(t, "the new spec is rolled back", func(p Plan) bool {
		return len(p.Actions) == 1 && errors.Is(p.Actions[0].Err, ErrRolledBack)
	})
	got.next(t, "the next pass holds it", func(p Plan) bool { return p.Counts().Held == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A restarted agent holds it from the record, whatever the passes.
	_, got2, logs, _ := start(after)
	for range 3 {
		p := got2.next(t, "a pass", func(Plan) bool { return true })
		if c := p.Counts(); c.Held != 1 || c.Recreate+c.Create+c.Remove != 0 {
			t.Fatalf("pass %v, want the rolled-back spec held and nothing done", p.Actions)
		}
	}
	if n := logs.FilterMessage("update held: its spec was rolled back").Len(); n != 1 {
		t.Errorf("the hold was logged %d times, want once", n)
	}
	if got := liveHashes(t, h, "web"); len(got) != 1 || got[0] != before.Spec.Hash() {
		t.Errorf("running %v, want the previous spec %s", got, before.Spec.Hash())
	}
}

// healthNoRecords is a host with health checks that keeps no record of the
// specs it created: a recreate has nothing to roll back to.
type healthNoRecords struct {
	driver.Driver
	driver.HealthChecker
}

func TestRecreateWithoutAWayBackLeavesTheUnhealthyOne(t *testing.T) {
	h := newHealthHost(t)
	d := healthNoRecords{h, h}
	before, after := webWith(img2022, spec.UpdateRecreate), webWith(img2022Nano, spec.UpdateRecreate)
	h.fail(after)
	ctx := context.Background()
	ex := &Executor{Driver: d, Logger: zaptest.NewLogger(t), Rollbacks: &Rollbacks{}}
	if _, err := Converge(ctx, d, spec.Set{Containers: []spec.Container{before}}, Policy{Owner: "reconciler"}, ex, false); err != nil {
		t.Fatal(err)
	}
	plan, err := Converge(ctx, d, spec.Set{Containers: []spec.Container{after}}, Policy{Owner: "reconciler"}, ex, false)
	if err != nil {
		t.Fatal(err)
	}
	if a := plan.Actions[0]; !errors.Is(a.Err, ErrUnhealthyLeft) || !strings.Contains(a.Err.Error(), "no rollback possible") {
		t.Fatalf("%s: %v, want the unhealthy one left, no rollback possible", a, a.Err)
	}
	if got := liveHashes(t, h, "web"); len(got) != 1 || got[0] != after.Spec.Hash() || len(ex.Rollbacks.Active()) != 0 {
		t.Errorf("running %v, records %v; want the new spec left running, nothing recorded", got, ex.Rollbacks.Active())
	}
}
