package reconcile

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

// memSource is a source whose desired set the test sets.
type memSource struct {
	mu      sync.Mutex
	snap    spec.Set
	notify  func()
	ready   chan struct{}
	runErr  error
	started sync.Once
}

func newMemSource(cs ...spec.Container) *memSource {
	return &memSource{snap: spec.Set{Containers: cs}, ready: make(chan struct{})}
}

func (m *memSource) String() string { return "mem" }

func (m *memSource) Run(ctx context.Context, notify func()) error {
	if m.runErr != nil {
		return m.runErr
	}
	m.mu.Lock()
	m.notify = notify
	m.mu.Unlock()
	m.started.Do(func() { close(m.ready) })
	<-ctx.Done()
	return nil
}

func (m *memSource) Snapshot(context.Context) (spec.Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap, nil
}

func (m *memSource) set(s spec.Set) {
	m.mu.Lock()
	m.snap = s
	notify := m.notify
	m.mu.Unlock()
	notify()
}

// passes collects the agent's plans.
type passes struct {
	mu    sync.Mutex
	plans []Plan
	ch    chan Plan
}

func newPasses() *passes { return &passes{ch: make(chan Plan, 100)} }

func (p *passes) add(plan Plan) {
	p.mu.Lock()
	p.plans = append(p.plans, plan)
	p.mu.Unlock()
	p.ch <- plan
}

// next waits for a pass that satisfies ok.
func (p *passes) next(t *testing.T, what string, ok func(Plan) bool) Plan {
	t.Helper()
	giveUp := testfixture.Within(t)
	for {
		select {
		case plan := <-p.ch:
			if ok(plan) {
				return plan
			}
		case <-giveUp:
			t.Fatalf("no pass where %s", what)
		}
	}
}

func startAgent(t *testing.T, a *Agent) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestAgentConvergesAndRestoresWhatHappensBehindItsBack(t *testing.T) {
	h := newHost(t)
	src := newMemSource(ctr("web", img2022, spec.IsolationProcess), ctr("db", img2022, spec.IsolationProcess))
	got := newPasses()
	a := &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Resync: 100 * time.Millisecond, Logger: zaptest.NewLogger(t), OnPass: got.add}
	stop := startAgent(t, a)

	got.next(t, "both are created", func(p Plan) bool { return p.Counts().Create == 2 })
	<-src.ready
	src.set(spec.Set{Containers: []spec.Container{ctr("web", img2022, spec.IsolationHyperV), ctr("db", img2022, spec.IsolationProcess)}})
	got.next(t, "web is recreated", func(p Plan) bool { return p.Counts().Recreate == 1 })

	if err := h.Kill(context.Background(), "db", 1); err != nil {
		t.Fatal(err)
	}
	plan := got.next(t, "the resync restores db", func(p Plan) bool { return p.Counts().Recreate == 1 })
	if plan.Actions[0].Name != "db" || plan.Actions[0].Status != StatusDone {
		t.Errorf("resync plan %+v", plan.Actions)
	}
	if err := stop(); err != nil {
		t.Errorf("Run returned %v, want nil on a clean stop", err)
	}
}

func TestAgentCoalescesTriggers(t *testing.T) {
	h := newHost(t)
	if err := h.SetFaults(context.Background(), sim.Faults{Latency: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	d := &concurrency{Driver: h}
	src := newMemSource(names(2)...)
	got := newPasses()
	a := &Agent{Sources: []Source{src}, Driver: d, Executor: &Executor{Driver: d},
		Policy: Policy{Owner: "reconciler"}, Resync: time.Hour, Logger: zaptest.NewLogger(t), OnPass: got.add}
	startAgent(t, a)
	// While the first pass is creating (slowly), 50 triggers make one more pass.
	if !testfixture.Eventually(t, func() bool { return d.inFlight.Load() > 0 }) {
		t.Fatal("the first pass never started creating")
	}
	for range 50 {
		a.Trigger()
	}
	got.next(t, "the first pass creates", func(p Plan) bool { return p.Counts().Create == 2 })
	got.next(t, "a second pass finds nothing to do", func(p Plan) bool { return len(p.Actions) == 0 })
	// An absence window: without coalescing, more passes would end within
	// it. A slow machine can only make it miss a fault, never fail.
	time.Sleep(200 * time.Millisecond)
	got.mu.Lock()
	n := len(got.plans)
	got.mu.Unlock()
	if n != 2 {
		t.Errorf("%d passes, want 2: triggers during a pass coalesce into one more", n)
	}
}

func TestAgentReturnsASourceThatCannotWork(t *testing.T) {
	h := newHost(t)
	src := newMemSource()
	src.runErr = errors.New("bad configuration")
	a := &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Logger: zaptest.NewLogger(t)}
	err := a.Run(context.Background())
	if err == nil || !errors.Is(err, src.runErr) {
		t.Errorf("Run = %v, want the source's error", err)
	}
}

func TestMergeKeepsNamesUniqueAcrossSources(t *testing.T) {
	a := spec.Set{Containers: []spec.Container{ctr("web", img2022, "")}}
	b := spec.Set{Containers: []spec.Container{ctr("web", img2019, ""), ctr("db", img2022, "")}, HoldRemovals: true, HoldReason: "folder gone"}
	d := Merge([]spec.Set{a, b})
	if len(d.Containers) != 1 || d.Containers[0].Metadata.Name != "db" {
		t.Errorf("containers %v, want only db", d.Containers)
	}
	if len(d.Errors) != 1 {
		t.Errorf("errors %v, want one duplicate-name error", d.Errors)
	}
	if !d.HoldRemovals || d.HoldReason != "folder gone" {
		t.Errorf("hold %v %q", d.HoldRemovals, d.HoldReason)
	}
}

// TestMergeChecksHostPortsAcrossSources: two sources publishing one host
// port is an error, and neither container is desired, as within a source.
func TestMergeChecksHostPortsAcrossSources(t *testing.T) {
	port := func(c *spec.Container) {
		c.Spec.Ports = []spec.Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}
	}
	a := spec.Set{Containers: []spec.Container{ctr("web", img2022, "", port)}}
	b := spec.Set{Containers: []spec.Container{ctr("api", img2022, "", port), ctr("db", img2022, "")}}
	d := Merge([]spec.Set{a, b})
	if len(d.Containers) != 1 || d.Containers[0].Metadata.Name != "db" {
		t.Errorf("containers %v, want only db", d.Containers)
	}
	if len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Message, "8080") {
		t.Errorf("errors %v, want one host-port error naming 8080", d.Errors)
	}
}

func TestAgentLogsProblemsOnTransitions(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	a := &Agent{}
	web := spec.Problem{File: "web.yaml", Line: 7, Name: "web", Message: "boom"}
	moved, reworded := web, web
	moved.Line = 9
	reworded.Message = "boom again"
	db := spec.Problem{File: "db.yaml", Name: "db", Message: "declares nothing", Warning: true}
	steps := []struct {
		name                    string
		plan                    Plan
		errors, warnings, fixed int // cumulative lines
	}{
		{name: "appears", plan: Plan{Errors: []spec.Problem{web}}, errors: 1},
		{name: "lasts", plan: Plan{Errors: []spec.Problem{web}}, errors: 1},
		{name: "moved to another line", plan: Plan{Errors: []spec.Problem{moved}}, errors: 1},
		{name: "a warning joins", plan: Plan{Errors: []spec.Problem{web}, Warnings: []spec.Problem{db}}, errors: 1, warnings: 1},
		{name: "the error is fixed", plan: Plan{Warnings: []spec.Problem{db}}, errors: 1, warnings: 1},
		{name: "all fixed", plan: Plan{}, errors: 1, warnings: 1, fixed: 1},
		{name: "still fixed", plan: Plan{}, errors: 1, warnings: 1, fixed: 1},
		{name: "back", plan: Plan{Errors: []spec.Problem{web}}, errors: 2, warnings: 1, fixed: 1},
		{name: "another mistake in its place", plan: Plan{Errors: []spec.Problem{reworded}}, errors: 3, warnings: 1, fixed: 1},
	}
	for _, st := range steps {
		a.logProblems(zap.New(core), st.plan)
		got := [3]int{logs.FilterMessage("desired set error: kept as it was until fixed").Len(),
			logs.FilterMessage("desired set warning").Len(), logs.FilterMessage("desired set problems fixed").Len()}
		if want := [3]int{st.errors, st.warnings, st.fixed}; got != want {
			t.Fatalf("%s: logged (errors, warnings, fixed) %v, want %v", st.name, got, want)
		}
	}
	if f := logs.All()[0].ContextMap(); f["source"] != "web.yaml" || f["line"] != int64(7) {
		t.Errorf("fields %v, want source web.yaml line 7", f)
	}
}

func TestAgentHoldsOneByOneRemovalsUntilApproved(t *testing.T) {
	h := newHost(t)
	declared, _ := fleet(10)
	src := newMemSource(declared...)
	core, logs := observer.New(zap.InfoLevel)
	got := newPasses()
	a := &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Resync: time.Hour, Logger: zap.New(core), OnPass: got.add}
	startAgent(t, a)
	got.next(t, "all 10 are created", func(p Plan) bool { return p.Counts().Create == 10 })
	<-src.ready

	removed := func(name string) func(Plan) bool {
		return func(p Plan) bool {
			return slices.ContainsFunc(p.Actions, func(a Action) bool {
				return a.Kind == ActionRemove && a.Name == name && a.Status == StatusDone
			})
		}
	}
	held := func(names ...string) func(Plan) bool {
		return func(p Plan) bool {
			var h []string
			for _, a := range p.Actions {
				if a.Status == StatusHeld {
					h = append(h, a.Name)
				}
			}
			return slices.Equal(h, names) && p.Counts().Remove == 0
		}
	}
	// One file at a time, each deletion seen by a pass: five go (half of
	// ten), the sixth and seventh are held.
	for i := range 5 {
		src.set(spec.Set{Containers: declared[i+1:]})
		got.next(t, declared[i].Metadata.Name+" is removed", removed(declared[i].Metadata.Name))
	}
	src.set(spec.Set{Containers: declared[6:]})
	got.next(t, "app-05 is held", held("app-05"))
	src.set(spec.Set{Containers: declared[7:]})
	plan := got.next(t, "app-05 and app-06 are held", held("app-05", "app-06"))
	if !strings.Contains(plan.Actions[0].HoldReason, "would make 7 removal(s) within 10m0s") {
		t.Errorf("hold reason %q", plan.Actions[0].HoldReason)
	}
	for range 3 { // resyncs
		a.Trigger()
		got.next(t, "a resync still holds them", held("app-05", "app-06"))
	}
	if n := logs.FilterMessage("removals held").Len(); n != 2 {
		t.Errorf("the holds were logged %d times, want 2: once per set of held names", n)
	}
	if _, err := a.ApproveRemovals([]string{"app-07"}); !errors.Is(err, ErrNotHeld) {
		t.Errorf("approving a removal not held: %v, want ErrNotHeld", err)
	}

	// Approve through the agent's API: exactly those two go, once.
	srv := httptest.NewServer(NewApprovalHandler(a, zaptest.NewLogger(t)))
	defer srv.Close()
	names, err := RequestApproval(context.Background(), srv.Client(), srv.URL, nil)
	if err != nil || !slices.Equal(names, []string{"app-05", "app-06"}) {
		t.Fatalf("approval = %v, %v; want app-05 and app-06", names, err)
	}
	plan = got.next(t, "the approved removals are carried out", func(p Plan) bool { return p.Counts().Remove == 2 })
	if c := plan.Counts(); c.Held != 0 || c.Unchanged != 3 {
		t.Errorf("approved pass: %q", summary(plan))
	}
	list, err := h.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, s := range list {
		left = append(left, s.Name)
	}
	slices.Sort(left)
	if want := []string{"app-07", "app-08", "app-09"}; !slices.Equal(left, want) {
		t.Errorf("host runs %v, want %v", left, want)
	}
	if n := logs.FilterMessage("removals no longer held").Len(); n != 1 {
		t.Errorf("the end of the hold was logged %d times, want 1", n)
	}
	// The approval was for one time: a new hold needs a new one.
	names, err = RequestApproval(context.Background(), srv.Client(), srv.URL, nil)
	if err != nil || len(names) != 0 {
		t.Errorf("second approval = %v, %v; want nothing approved", names, err)
	}
}

// TestAgentLogsWhatTriggeredEachPass: the "pass done" line names every
// cause the pass answered.
func TestAgentLogsWhatTriggeredEachPass(t *testing.T) {
	h := newHost(t)
	src := newMemSource(ctr("web", img2022, spec.IsolationProcess))
	core, logs := observer.New(zap.InfoLevel)
	got := newPasses()
	a := &Agent{Sources: []Source{src}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Resync: 100 * time.Millisecond, Logger: zap.New(core), OnPass: got.add}
	startAgent(t, a)
	got.next(t, "web is created", func(p Plan) bool { return p.Counts().Create == 1 })
	<-src.ready
	src.set(spec.Set{Containers: []spec.Container{ctr("web", img2022, spec.IsolationHyperV)}})
	got.next(t, "web is recreated", func(p Plan) bool { return p.Counts().Recreate == 1 })
	if err := h.Kill(context.Background(), "web", 1); err != nil {
		t.Fatal(err)
	}
	got.next(t, "web is restored", func(p Plan) bool { return p.Counts().Recreate == 1 })

	var causes [][]string
	for _, e := range logs.FilterMessage("pass done").All() {
		var cs []string
		for _, c := range e.ContextMap()["trigger"].([]any) {
			cs = append(cs, c.(string))
		}
		causes = append(causes, cs)
	}
	has := func(i int, cause string) bool {
		return slices.ContainsFunc(causes[i], func(c string) bool { return strings.HasPrefix(c, cause) })
	}
	last := len(causes) - 1
	if len(causes) < 3 || !slices.Equal(causes[0], []string{"start"}) ||
		!slices.ContainsFunc(causes, func(c []string) bool { return slices.Contains(c, "mem") }) ||
		!(has(last, "resync") || has(last, "exit of web_")) {
		t.Errorf("pass causes = %q, want start first, a pass for the source mem, and the restoring pass for a resync or web's exit", causes)
	}
}
