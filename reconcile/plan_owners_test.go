package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// ownedBy makes s a system that owner's agent created: its ID carries that
// owner's token.
func ownedBy(o string) func(*driver.System) {
	return func(s *driver.System) { s.Owner, s.ID = o, driver.SystemID(s.Name, o, s.SpecHash) }
}

// oldID gives s the ID form of builds before owners were part of IDs.
func oldID(s *driver.System) { s.ID = s.Name + "_" + s.SpecHash }

// Names are per owner: each owner's agent plans its own container of a
// shared name and leaves the other's alone; a system no agent made still
// takes the name.
func TestComputePlanNamesPerOwner(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationProcess)
	db := ctr("db", img2022, spec.IsolationProcess)
	webA := running(web, spec.IsolationProcess, ownedBy("team:a"))
	webB := running(web, spec.IsolationProcess, ownedBy("team:b"))
	tests := []struct {
		name       string
		owner      string
		desired    []spec.Container
		observed   []driver.System
		want       []string
		wantErrors []string
	}{
		{name: "the other owner's system of the name is no conflict", owner: "team:b",
			desired: []spec.Container{web}, observed: []driver.System{webA},
			want: []string{"create web"}},
		{name: "both owners' systems run: each is unchanged for its owner (a)", owner: "team:a",
			desired: []spec.Container{web}, observed: []driver.System{webA, webB},
			want: []string{"unchanged web"}},
		{name: "both owners' systems run: each is unchanged for its owner (b)", owner: "team:b",
			desired: []spec.Container{web}, observed: []driver.System{webA, webB},
			want: []string{"unchanged web"}},
		{name: "the other owner's system is never removed", owner: "team:a",
			desired: []spec.Container{db}, observed: []driver.System{running(db, spec.IsolationProcess, ownedBy("team:a")), webB},
			want: []string{"unchanged db"}},
		{name: "another owner's system of the old id form is no conflict either", owner: "team:b",
			desired: []spec.Container{web}, observed: []driver.System{running(web, spec.IsolationProcess, owner("team:a"), oldID)},
			want: []string{"create web"}},
		{name: "a system no agent made takes the name", owner: "team:a",
			desired: []spec.Container{web}, observed: []driver.System{webB, running(web, spec.IsolationProcess, owner("docker"), unmanaged)},
			wantErrors: []string{`the name "web" is taken by compute system web owned by "docker"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := ComputePlan(spec.Set{Containers: tt.desired}, tt.observed, server2022, Policy{Owner: tt.owner})
			if got := summary(plan); !slices.Equal(got, tt.want) {
				t.Errorf("plan = %q, want %q", got, tt.want)
			}
			for _, a := range plan.Actions {
				for _, s := range a.remove {
					if s.Owner != tt.owner {
						t.Errorf("%s takes down %s of owner %q", a, s.ID, s.Owner)
					}
				}
			}
			checkProblems(t, "error", plan.Errors, tt.wantErrors)
			checkProblems(t, "warning", plan.Warnings, nil)
		})
	}
}

// Containers created before owners were part of IDs are adopted: an
// old-form ID with the same spec hash is unchanged, never recreated.
func TestComputePlanAdoptsOldIDs(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationProcess)
	old := running(web, spec.IsolationProcess, oldID)
	if name, hash, ok := driver.ParseSystemID(old.ID); !ok || name != "web" || hash != web.Spec.Hash() {
		t.Fatalf("ParseSystemID(%s) = %q, %q, %v; want web and the spec hash", old.ID, name, hash, ok)
	}
	plan := ComputePlan(spec.Set{Containers: []spec.Container{web}}, []driver.System{old}, server2022, Policy{Owner: "reconciler"})
	if got := summary(plan); !slices.Equal(got, []string{"unchanged web"}) {
		t.Errorf("plan = %q, want the old-form system unchanged", got)
	}

	// A changed spec recreates it as usual, under the new ID form.
	changed := ctr("web", img2022, spec.IsolationHyperV)
	plan = ComputePlan(spec.Set{Containers: []spec.Container{changed}}, []driver.System{old}, server2022, Policy{Owner: "reconciler"})
	if len(plan.Actions) != 1 || plan.Actions[0].Kind != ActionRecreate || plan.Actions[0].remove[0].ID != old.ID {
		t.Fatalf("plan = %q, want a recreate of %s", summary(plan), old.ID)
	}
}

// A name taken on the host is an error for that container only: it never
// holds the removals of other containers (only an unreadable or invalid
// desired set does).
func TestComputePlanNameConflictDoesNotHoldRemovals(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationProcess)
	db := ctr("db", img2022, spec.IsolationProcess)
	gone := ctr("gone", img2022, spec.IsolationProcess)
	observed := []driver.System{
		running(web, spec.IsolationProcess, owner("docker"), unmanaged),
		running(db, spec.IsolationProcess),
		running(gone, spec.IsolationProcess),
	}
	plan := ComputePlan(spec.Set{Containers: []spec.Container{web, db}}, observed, server2022, Policy{Owner: "reconciler"})
	if got, want := summary(plan), []string{"remove gone", "unchanged db"}; !slices.Equal(got, want) {
		t.Errorf("plan = %q, want %q", got, want)
	}
	checkProblems(t, "error", plan.Errors, []string{`the name "web" is taken by compute system web owned by "docker"`})
	for _, w := range plan.Warnings {
		if strings.Contains(w.Message, "held") {
			t.Errorf("a name conflict held a removal: %s", w.Error())
		}
	}
}
