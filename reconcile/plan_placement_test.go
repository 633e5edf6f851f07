package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func placed(p spec.Placement) func(*spec.Container) {
	return func(c *spec.Container) { c.Spec.Placement = p }
}

// A manifest whose placement does not admit this host is not desired
// here; the removal of its running container is held until approved, so
// that a mistyped placement never removes anything.
func TestComputePlanPlacement(t *testing.T) {
	paris := spec.HostFacts{Hostname: "web-01", Labels: map[string]string{"site": "paris"}}
	here := ctr("here", img2022, spec.IsolationProcess, placed(spec.Placement{Labels: map[string]string{"site": "paris"}}))
	there := ctr("there", img2022, spec.IsolationProcess, placed(spec.Placement{Hostnames: []string{"db-*"}}))
	typo := ctr("typo", img2022, spec.IsolationProcess, placed(spec.Placement{Labels: map[string]string{"stie": "paris"}}))
	gone := ctr("gone", img2022, spec.IsolationProcess)
	tests := []struct {
		name         string
		desired      []spec.Container
		observed     []driver.System
		policy       Policy
		want         []string
		wantHold     string
		wantWarnings []string
	}{
		{name: "placed here: created; placed elsewhere: nothing",
			desired: []spec.Container{here, there},
			want:    []string{"create here"}},
		{name: "placed elsewhere but running here: removal held",
			desired: []spec.Container{here, there}, observed: []driver.System{running(here, spec.IsolationProcess), running(there, spec.IsolationProcess)},
			want: []string{"held remove there", "unchanged here"}, wantHold: "placement does not admit this host"},
		{name: "approved: removed",
			desired: []spec.Container{there}, observed: []driver.System{running(there, spec.IsolationProcess)},
			policy: Policy{Removals: RemovalWindow{Approved: []string{"there"}}},
			want:   []string{"remove there"}},
		{name: "--allow-mass-removal: removed",
			desired: []spec.Container{there}, observed: []driver.System{running(there, spec.IsolationProcess)},
			policy: Policy{AllowMassRemoval: true},
			want:   []string{"remove there"}},
		{name: "a label this host lacks holds every removal",
			desired:      []spec.Container{here, typo},
			observed:     []driver.System{running(typo, spec.IsolationProcess), running(gone, spec.IsolationProcess), running(here, spec.IsolationProcess)},
			policy:       Policy{AllowMassRemoval: true},
			want:         []string{"held remove gone", "held remove typo", "unchanged here"},
			wantHold:     "1 manifest problem(s)",
			wantWarnings: []string{"this host has no label stie"}},
		{name: "no placement: no change in behaviour",
			desired: []spec.Container{here}, observed: []driver.System{running(here, spec.IsolationProcess), running(gone, spec.IsolationProcess)},
			policy: Policy{AllowMassRemoval: true},
			want:   []string{"remove gone", "unchanged here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.policy.Owner, tt.policy.Facts = "reconciler", paris
			plan := ComputePlan(spec.Set{Containers: tt.desired}, tt.observed, server2022, tt.policy)
			if got := summary(plan); !slices.Equal(got, tt.want) {
				t.Errorf("plan = %q, want %q", got, tt.want)
			}
			for _, a := range plan.Actions {
				if a.Status == StatusHeld && !strings.Contains(a.HoldReason, tt.wantHold) {
					t.Errorf("%s held for %q, want %q", a, a.HoldReason, tt.wantHold)
				}
			}
			checkProblems(t, "warning", plan.Warnings, tt.wantWarnings)
			for _, c := range tt.desired {
				admitted, _, _ := c.Spec.Placement.Admits(paris, server2022)
				listed := slices.ContainsFunc(plan.Elsewhere, func(e PlacedElsewhere) bool { return e.Name == c.Metadata.Name && e.Reason != "" })
				if admitted == listed {
					t.Errorf("%s: admitted %v, listed elsewhere %v: %+v", c.Metadata.Name, admitted, listed, plan.Elsewhere)
				}
			}
		})
	}
}
