package reconcile

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/spec"
)

// errMutation is what readOnlyHost returns from a call that would change
// the host.
var errMutation = errors.New("a dry run changed the host")

// readOnlyHost is a driver double for dry runs: reads go to an emulated
// host, and every call that would change the host is refused, reported to
// onMutation and recorded. It offers every capability of package driver,
// so a dry run never skips a code path for want of one; it embeds nothing,
// so a method added to driver.Driver does not compile until it is
// classified here, and TestReadOnlyHostOffersEveryCapability fails on a
// new optional interface.
type readOnlyHost struct {
	host       *sim.EmulatedHost
	onMutation func(call string)

	mu        sync.Mutex
	mutations []string
}

var (
	_ driver.Driver        = (*readOnlyHost)(nil)
	_ driver.ImagePreparer = (*readOnlyHost)(nil)
	_ driver.RequestReader = (*readOnlyHost)(nil)
	_ driver.ProcessViewer = (*readOnlyHost)(nil)
	_ driver.ExitWatcher   = (*readOnlyHost)(nil)
	_ driver.PullReporter  = (*readOnlyHost)(nil)
)

// guardDryRun wraps h for a dry run: any mutating call fails the test.
func guardDryRun(t *testing.T, h *sim.EmulatedHost) *readOnlyHost {
	return &readOnlyHost{host: h, onMutation: func(call string) { t.Errorf("dry run called %s", call) }}
}

func (r *readOnlyHost) mutate(format string, args ...any) error {
	call := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock() // onMutation too: the executor calls in parallel
	r.mutations = append(r.mutations, call)
	r.onMutation(call)
	return fmt.Errorf("%s: %w", call, errMutation)
}

func (r *readOnlyHost) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.mutations)
}

// Host reads.
func (r *readOnlyHost) Host(ctx context.Context) (spec.Host, error) { return r.host.Host(ctx) }

// List reads.
func (r *readOnlyHost) List(ctx context.Context) ([]driver.System, error) { return r.host.List(ctx) }

// CreatedWith reads.
func (r *readOnlyHost) CreatedWith(ctx context.Context, id string) (driver.CreateRequest, error) {
	return r.host.CreatedWith(ctx, id)
}

// Processes reads.
func (r *readOnlyHost) Processes(ctx context.Context, id string) (driver.ProcessView, error) {
	return r.host.Processes(ctx, id)
}

// WatchExits reads: the emulated host reports no exits, so it waits for
// ctx.
func (r *readOnlyHost) WatchExits(ctx context.Context, _ func(id string)) { <-ctx.Done() }

// Pulls is a read: the emulated host pulls nothing.
func (r *readOnlyHost) Pulls() []driver.PullProgress { return []driver.PullProgress{} }

// Create mutates.
func (r *readOnlyHost) Create(_ context.Context, req driver.CreateRequest) (driver.System, error) {
	return driver.System{}, r.mutate("Create(%s)", req.Name)
}

// Remove mutates.
func (r *readOnlyHost) Remove(_ context.Context, id string, _ time.Duration) error {
	return r.mutate("Remove(%s)", id)
}

// PrepareImage mutates: it pulls and unpacks images.
func (r *readOnlyHost) PrepareImage(_ context.Context, req driver.CreateRequest) error {
	return r.mutate("PrepareImage(%s)", req.Spec.Image)
}

// CheckHealth counts as a mutation: an exec check runs a process inside
// the container, and a dry run waits for no container to become healthy.
func (r *readOnlyHost) CheckHealth(_ context.Context, id string, _ spec.Healthcheck) error {
	return r.mutate("CheckHealth(%s)", id)
}

// TestReadOnlyHostOffersEveryCapability parses package driver and fails on
// an interface the double does not implement: a capability it lacked would
// be a code path a dry run under test never reaches.
func TestReadOnlyHostOffersEveryCapability(t *testing.T) {
	dir := filepath.Join("..", "driver")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	guard := reflect.TypeFor[*readOnlyHost]()
	found := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			iface, ok := ts.Type.(*ast.InterfaceType)
			if !ok || !ts.Name.IsExported() {
				return false
			}
			found++
			for _, m := range iface.Methods.List {
				for _, name := range m.Names {
					if _, ok := guard.MethodByName(name.Name); !ok {
						t.Errorf("driver.%s.%s: readOnlyHost has no such method; add it as a read (passed through) or a mutation (refused)", ts.Name.Name, name.Name)
					}
				}
			}
			return false
		})
	}
	if found < 5 {
		t.Errorf("found %d interfaces in package driver, want at least 5", found)
	}
}

// TestReadOnlyHostRefusesMutations proves the double itself: reads return
// what the host says, and each mutating call is reported, refused, and
// leaves the host as it was, including under a real (not dry) pass.
func TestReadOnlyHostRefusesMutations(t *testing.T) {
	ctx := context.Background()
	h := newHost(t)
	web := ctr("web", img2022, spec.IsolationProcess)
	live, err := Converge(ctx, h, spec.Set{Containers: []spec.Container{web}}, Policy{Owner: "reconciler"}, &Executor{Driver: h}, false)
	if err != nil || live.Counts().Create != 1 {
		t.Fatalf("setup: %q, %v", summary(live), err)
	}
	before := listHost(t, h)
	var reported []string
	guard := &readOnlyHost{host: h, onMutation: func(call string) { reported = append(reported, call) }}

	if got := listHost(t, guard); !reflect.DeepEqual(got, before) {
		t.Errorf("List through the double = %v, want %v", got, before)
	}
	req, err := guard.CreatedWith(ctx, before[0].ID)
	if err != nil || req.Name != "web" {
		t.Errorf("CreatedWith through the double = %+v, %v", req, err)
	}
	if _, err := guard.Processes(ctx, before[0].ID); err != nil {
		t.Errorf("Processes through the double: %v", err)
	}
	if _, err := guard.Create(ctx, req); !errors.Is(err, errMutation) {
		t.Errorf("Create: %v, want errMutation", err)
	}
	if err := guard.Remove(ctx, before[0].ID, time.Second); !errors.Is(err, errMutation) {
		t.Errorf("Remove: %v, want errMutation", err)
	}
	if err := guard.PrepareImage(ctx, req); !errors.Is(err, errMutation) {
		t.Errorf("PrepareImage: %v, want errMutation", err)
	}

	// A pass that is not a dry run is caught: the double would notice a
	// dry run that applied.
	changed := ctr("web", img2019, spec.IsolationHyperV)
	plan, err := Converge(ctx, guard, spec.Set{Containers: []spec.Container{changed, ctr("api", img2022, spec.IsolationProcess)}},
		Policy{Owner: "reconciler"}, &Executor{Driver: guard, Retries: 1}, false)
	if err != nil || plan.Counts().Failed != 2 {
		t.Errorf("applied through the double: %q, %v; want 2 failed actions", summary(plan), err)
	}
	want := []string{"Create(web)", "Remove(" + before[0].ID + ")", "PrepareImage(" + img2022 + ")", "PrepareImage(" + img2022 + ")", "PrepareImage(" + img2019 + ")"}
	calls := guard.calls()
	for _, s := range [][]string{reported, want, calls} {
		slices.Sort(s)
	}
	if !slices.Equal(reported, want) || !slices.Equal(calls, want) {
		t.Errorf("mutations reported %q, recorded %q, want %q", reported, calls, want)
	}
	if got := listHost(t, h); !reflect.DeepEqual(got, before) {
		t.Errorf("the host changed behind the double: %v, want %v", got, before)
	}
}

func listHost(t *testing.T, d driver.Driver) []driver.System {
	t.Helper()
	list, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// checkDryPlan fails the test on a plan a dry run must never produce.
func checkDryPlan(t *testing.T, p Plan) {
	t.Helper()
	if !p.DryRun {
		t.Errorf("a dry-run pass made a plan with DryRun false: %q", summary(p))
	}
	for _, a := range p.Actions {
		if a.Status != StatusPlanned && a.Status != StatusHeld {
			t.Errorf("dry run: %s is %s (%v), want planned or held", a, a.Status, a.Err)
		}
	}
}

func TestDryRunConvergeNeverChangesTheHost(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationProcess)
	db := ctr("db", img2022, spec.IsolationProcess)
	old := ctr("old", img2022, spec.IsolationProcess)
	webNew := ctr("web", img2019, spec.IsolationHyperV)
	api := ctr("api", img2022, spec.IsolationProcess)
	declared, _ := fleet(6)
	tests := []struct {
		name string
		// live is what the emulated host runs, made by real passes;
		// setup then changes it behind the agent's back.
		live   []spec.Container
		setup  func(t *testing.T, h *sim.EmulatedHost)
		desire spec.Set
		policy Policy
		want   []string
	}{
		{
			name:   "an empty host",
			desire: spec.Set{Containers: []spec.Container{web, db}},
			want:   []string{"create db", "create web"},
		},
		{
			name:   "create, recreate and remove",
			live:   []spec.Container{web, db, old},
			desire: spec.Set{Containers: []spec.Container{webNew, db, api}},
			policy: Policy{AllowMassRemoval: true},
			want:   []string{"create api", "remove old", "recreate web", "unchanged db"},
		},
		{
			name:   "an exited container and a duplicate",
			live:   []spec.Container{web, db},
			setup:  func(t *testing.T, h *sim.EmulatedHost) { duplicate(t, h, webNew); kill(t, h, "db") },
			desire: spec.Set{Containers: []spec.Container{web, db}},
			want:   []string{"recreate db", "remove web", "unchanged web"},
		},
		{
			name: "an image that cannot be pulled",
			live: []spec.Container{web},
			setup: func(t *testing.T, h *sim.EmulatedHost) {
				if err := h.SetFaults(context.Background(), sim.Faults{FailImages: []string{img2019}}); err != nil {
					t.Fatal(err)
				}
			},
			desire: spec.Set{Containers: []spec.Container{webNew}},
			want:   []string{"recreate web"},
		},
		{
			name:   "removals held by a manifest problem",
			live:   []spec.Container{web, old},
			desire: spec.Set{Containers: []spec.Container{web}, Errors: []spec.Problem{{File: "bad.yaml", Line: 1, Message: "boom"}}},
			policy: Policy{AllowMassRemoval: true},
			want:   []string{"held remove old", "unchanged web"},
		},
		{
			name:   "removals held by the removal limit",
			live:   declared,
			desire: spec.Set{Containers: declared[4:]},
			want:   []string{"held remove app-00", "held remove app-01", "held remove app-02", "held remove app-03", "unchanged app-04", "unchanged app-05"},
		},
		{
			name:   "approved removals",
			live:   declared,
			desire: spec.Set{Containers: declared[4:]},
			policy: Policy{Removals: RemovalWindow{Approved: []string{"app-00", "app-01", "app-02", "app-03"}}},
			want:   []string{"remove app-00", "remove app-01", "remove app-02", "remove app-03", "unchanged app-04", "unchanged app-05"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHost(t)
			if _, err := Converge(ctx, h, spec.Set{Containers: tc.live}, Policy{Owner: "reconciler"}, &Executor{Driver: h}, false); err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(t, h)
			}
			before := listHost(t, h)
			guard := guardDryRun(t, h)
			policy := tc.policy
			policy.Owner = "reconciler"
			for range 2 { // a dry run changes nothing, so the second plans the same
				plan, err := Converge(ctx, guard, tc.desire, policy, &Executor{Driver: guard}, true)
				if err != nil {
					t.Fatal(err)
				}
				checkDryPlan(t, plan)
				if got := summary(plan); !slices.Equal(got, tc.want) {
					t.Errorf("dry run plans %q, want %q", got, tc.want)
				}
			}
			if got := listHost(t, h); !reflect.DeepEqual(got, before) {
				t.Errorf("the host changed in a dry run:\n got %v\nwant %v", got, before)
			}
			if calls := guard.calls(); len(calls) > 0 {
				t.Errorf("dry run called %q", calls)
			}
		})
	}
}

// duplicate creates a second system of c's name (another spec) behind the
// agent's back.
func duplicate(t *testing.T, h *sim.EmulatedHost, c spec.Container) {
	t.Helper()
	host, err := h.Host(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _, _, ok := (&imageChecks{host: host, policy: Policy{Owner: "reconciler"}}).request(&c)
	if !ok {
		t.Fatalf("%s cannot run on %s", c.Metadata.Name, host)
	}
	if _, err := h.Create(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

// kill makes the main process of name exit with code 1.
func kill(t *testing.T, h *sim.EmulatedHost, name string) {
	t.Helper()
	if err := h.Kill(context.Background(), name, 1); err != nil {
		t.Fatal(err)
	}
}

func TestDryRunAgentNeverChangesTheHost(t *testing.T) {
	ctx := context.Background()
	h := newHost(t)
	declared, _ := fleet(10)
	if _, err := Converge(ctx, h, spec.Set{Containers: declared}, Policy{Owner: "reconciler"}, &Executor{Driver: h}, false); err != nil {
		t.Fatal(err)
	}
	kill(t, h, "app-09")
	before := listHost(t, h)

	guard := guardDryRun(t, h)
	fresh := ctr("fresh", img2022, spec.IsolationProcess)
	src := newMemSource(append(slices.Clone(declared), fresh)...)
	got := newPasses()
	ledger := filepath.Join(t.TempDir(), "removals.json")
	a := &Agent{Sources: []Source{src}, Driver: guard, Executor: &Executor{Driver: guard},
		Policy: Policy{Owner: "reconciler"}, DryRun: true, Resync: time.Hour, LedgerPath: ledger,
		Logger: zaptest.NewLogger(t), OnPass: func(p Plan) { checkDryPlan(t, p); got.add(p) }}
	stop := startAgent(t, a)
	is := func(want ...string) func(Plan) bool {
		return func(p Plan) bool { return slices.Equal(summary(p), want) }
	}
	unchanged := func(cs []spec.Container) []string {
		var out []string
		for _, c := range cs {
			out = append(out, "unchanged "+c.Metadata.Name)
		}
		return out
	}

	first := append([]string{"recreate app-09", "create fresh"}, unchanged(declared[:9])...)
	got.next(t, "the first pass plans a create and a restart", is(first...))
	<-src.ready
	a.Trigger()
	got.next(t, "a second pass plans the same", is(first...))

	// The source changes: a new image for app-00, six manifests deleted
	// (more than half of the ten owned): the removals are held.
	changed := append([]spec.Container{ctr("app-00", img2019, spec.IsolationHyperV)}, declared[7:]...)
	src.set(spec.Set{Containers: changed, Revision: "r2"})
	held := []string{"recreate app-00", "held remove app-01", "held remove app-02", "held remove app-03", "held remove app-04",
		"held remove app-05", "held remove app-06", "recreate app-09", "unchanged app-07", "unchanged app-08"}
	got.next(t, "the removals are held", is(held...))

	// Approved, they are planned, never carried out; the next pass holds
	// them again (a dry run records no removal).
	names, err := a.ApproveRemovals(nil)
	if err != nil || len(names) != 6 {
		t.Fatalf("approve = %v, %v; want the six held", names, err)
	}
	approved := []string{"recreate app-00", "remove app-01", "remove app-02", "remove app-03", "remove app-04",
		"remove app-05", "remove app-06", "recreate app-09", "unchanged app-07", "unchanged app-08"}
	got.next(t, "the approved removals are planned", is(approved...))
	a.Trigger()
	got.next(t, "a later pass holds them again", is(held...))

	// A manifest problem holds every removal.
	src.set(spec.Set{Containers: changed, Errors: []spec.Problem{{File: "bad.yaml", Line: 2, Message: "boom"}}})
	got.next(t, "a manifest problem holds the removals", func(p Plan) bool {
		i := slices.IndexFunc(p.Actions, func(a Action) bool { return a.Status == StatusHeld })
		return slices.Equal(summary(p), held) && len(p.Errors) == 1 && strings.Contains(p.Actions[i].HoldReason, "manifest problem")
	})

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if after := listHost(t, h); !reflect.DeepEqual(after, before) {
		t.Errorf("the host changed under a dry-run agent:\n got %v\nwant %v", after, before)
	}
	if calls := guard.calls(); len(calls) > 0 {
		t.Errorf("the dry-run agent called %q", calls)
	}
	if _, err := os.Stat(ledger); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry-run agent wrote the removal ledger (%v)", err)
	}
}
