package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Hosts before and after the changes a Patch Tuesday or an in-place
// upgrade make.
var (
	server2019     = spec.Host{Build: 17763, Revision: 5329, SKU: spec.SKUServer, HyperV: true}
	server2019Old  = spec.Host{Build: 17763, Revision: 6893, SKU: spec.SKUServer, HyperV: true}
	server2019New  = spec.Host{Build: 17763, Revision: 7314, SKU: spec.SKUServer, HyperV: true}
	server2016     = spec.Host{Build: 14393, Revision: 1944, SKU: spec.SKUServer, HyperV: true}
	server2022Bare = spec.Host{Build: 20348, Revision: 1, SKU: spec.SKUServer}
)

// createdOn records that a system was created on host h.
func createdOn(h spec.Host) func(*driver.System) {
	return func(s *driver.System) { s.HostOS = spec.OSVersion{Build: h.Build, Revision: h.Revision} }
}

// withOSVersion sets spec.osVersion.
func withOSVersion(v string) func(*spec.Container) {
	return func(c *spec.Container) { c.Spec.OSVersion = v }
}

// TestPlanAutoIsolation: isolation: auto is resolved on every pass against
// the host of that pass; a container is recreated exactly when the
// resolution differs from the isolation it runs with, saying why, and a
// host change since a process-isolated create is named where it matters.
func TestPlanAutoIsolation(t *testing.T) {
	auto2019 := ctr("web", img2019, spec.IsolationAuto)
	auto2022 := ctr("web", img2022, spec.IsolationAuto)
	process2019 := ctr("web", img2019, spec.IsolationProcess)
	process2022 := ctr("web", img2022, spec.IsolationProcess)
	newRevision := ctr("web", "mcr.microsoft.com/windows/servercore:10.0.17763.7314", spec.IsolationAuto)
	pinned2016 := ctr("web", "mcr.microsoft.com/windows/servercore:10.0.14393.1770", spec.IsolationProcess)
	tests := []struct {
		name    string
		host    spec.Host
		desired spec.Container
		live    []driver.System
		want    []string // summary
		// wantAuto is what auto resolves to; "" when the plan has no decision.
		wantAuto    spec.Isolation
		wantReason  []string // fragments of the action's reason
		notReason   []string
		wantError   []string // fragments of the one error
		wantWarning []string // fragments of the one warning
	}{
		{
			name: "a new container: process where the image matches", host: server2022, desired: auto2022,
			want: []string{"create web"}, wantAuto: spec.IsolationProcess,
			wantReason: []string{"not running; isolation auto → process: Windows Server 2022 (10.0.20348.1) runs image build 10.0.20348 (ltsc2022) with process isolation"},
		},
		{
			name: "a new container: hyperv where the image is older", host: server2022, desired: auto2019,
			want: []string{"create web"}, wantAuto: spec.IsolationHyperV,
			wantReason: []string{"not running; isolation auto → hyperv: image build 10.0.17763 (ltsc2019) cannot run with process isolation on Windows Server 2022 (10.0.20348.1)"},
		},
		{
			name: "same host, same resolution: unchanged", host: server2019, desired: auto2019,
			live: []driver.System{running(auto2019, spec.IsolationProcess, createdOn(server2019))},
			want: []string{"unchanged web"}, wantAuto: spec.IsolationProcess,
		},
		{
			name: "an in-place upgrade moves it to hyperv, naming the host change", host: server2022, desired: auto2019,
			live: []driver.System{running(auto2019, spec.IsolationProcess, createdOn(server2019))},
			want: []string{"recreate web"}, wantAuto: spec.IsolationHyperV,
			wantReason: []string{"isolation process → hyperv by isolation auto: image build 10.0.17763 (ltsc2019) cannot run with process isolation on Windows Server 2022 (10.0.20348.1): process isolation needs the image build to match the host build",
				"the host changed from 10.0.17763.5329 to 10.0.20348.1 since web was created with process isolation"},
		},
		{
			name: "after the move, the same resolution: unchanged, not recreated every pass", host: server2022, desired: auto2019,
			live: []driver.System{running(auto2019, spec.IsolationHyperV, createdOn(server2022))},
			want: []string{"unchanged web"}, wantAuto: spec.IsolationHyperV,
		},
		{
			name: "a host change that process isolation survives changes nothing", host: server2019New, desired: auto2019,
			live: []driver.System{running(auto2019, spec.IsolationProcess, createdOn(server2019))},
			want: []string{"unchanged web"}, wantAuto: spec.IsolationProcess,
		},
		{
			name: "an image of a newer revision than the host's goes to hyperv", host: server2019Old, desired: newRevision,
			want: []string{"create web"}, wantAuto: spec.IsolationHyperV,
			wantReason: []string{"isolation auto → hyperv: image build 10.0.17763.7314 (ltsc2019) should not run with process isolation on Windows Server 2019 (10.0.17763.6893): the image revision 7314 is newer than the host revision 6893"},
		},
		{
			name: "once the host is patched, back to process, saying why", host: server2019New, desired: newRevision,
			live: []driver.System{running(newRevision, spec.IsolationHyperV, createdOn(server2019Old))},
			want: []string{"recreate web"}, wantAuto: spec.IsolationProcess,
			wantReason: []string{"isolation hyperv → process by isolation auto: Windows Server 2019 (10.0.17763.7314) runs image build 10.0.17763.7314 (ltsc2019) with process isolation"},
			notReason:  []string{"the host changed"},
		},
		{
			name: "opting in to auto where it resolves to the mode running recreates nothing", host: server2022, desired: auto2022,
			live: []driver.System{running(process2022, spec.IsolationProcess, createdOn(server2022))},
			want: []string{"unchanged web"}, wantAuto: spec.IsolationProcess,
		},
		{
			name: "opting in to auto where it resolves to another mode recreates, saying why", host: win11, desired: auto2022,
			live: []driver.System{running(process2022, spec.IsolationProcess, createdOn(win11))},
			want: []string{"recreate web"}, wantAuto: spec.IsolationHyperV,
			wantReason: []string{"isolation process → hyperv by isolation auto: image build 10.0.20348 (ltsc2022) should not run with process isolation on Windows 11 (10.0.22631): process isolation on a Windows client host is for development/testing only"},
			notReason:  []string{"the host changed", "spec changed"},
		},
		{
			name: "opting out of auto for the mode it resolved to recreates nothing", host: server2022, desired: ctr("web", img2019, spec.IsolationHyperV),
			live: []driver.System{running(auto2019, spec.IsolationHyperV, createdOn(server2022))},
			want: []string{"unchanged web"},
		},
		{
			name: "auto on a host without Hyper-V and an image it cannot run: an error, the running one is kept", host: server2022Bare, desired: auto2019,
			live:      []driver.System{running(auto2019, spec.IsolationProcess, createdOn(server2019))},
			want:      []string{},
			wantError: []string{"the host changed from 10.0.17763.5329 to 10.0.20348.1 since web was created with process isolation: isolation auto finds no isolation mode for image build 10.0.17763 (ltsc2019)", "enable the Hyper-V role"},
		},
		{
			name: "declared process after an upgrade: reported with the change and what would work, the running one kept", host: server2022, desired: process2019,
			live:      []driver.System{running(process2019, spec.IsolationProcess, createdOn(server2019))},
			want:      []string{},
			wantError: []string{"the host changed from 10.0.17763.5329 to 10.0.20348.1 since web was created with process isolation: image build 10.0.17763 (ltsc2019) cannot run with process isolation", "use isolation: hyperv, or an ltsc2022 image"},
		},
		{
			name: "declared process, host rolled back below the image's revision: a warning with the change", host: server2019Old, desired: ctr("web", img2019, spec.IsolationProcess, withOSVersion("10.0.17763.7314")),
			live:        []driver.System{running(ctr("web", img2019, spec.IsolationProcess, withOSVersion("10.0.17763.7314")), spec.IsolationProcess, createdOn(server2019New))},
			want:        []string{"unchanged web"},
			wantWarning: []string{"the host changed from 10.0.17763.7314 to 10.0.17763.6893 since web was created with process isolation: image build 10.0.17763.7314 (ltsc2019) is of a newer revision than the host", spec.HCSUnexpectedExit},
		},
		{
			name: "a Patch Tuesday on a 2016 host: the revision no longer matches", host: server2016, desired: pinned2016,
			live:      []driver.System{running(pinned2016, spec.IsolationProcess, createdOn(spec.Host{Build: 14393, Revision: 1770}))},
			want:      []string{},
			wantError: []string{"the host changed from 10.0.14393.1770 to 10.0.14393.1944 since web was created with process isolation", "revision to match the host revision 1944"},
		},
		{
			name: "a system with no recorded host says nothing of a change", host: server2022, desired: process2019,
			live:      []driver.System{running(process2019, spec.IsolationProcess)},
			want:      []string{},
			wantError: []string{"image build 10.0.17763 (ltsc2019) cannot run with process isolation on Windows Server 2022"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ComputePlan(spec.Set{Containers: []spec.Container{tt.desired}}, tt.live, tt.host, Policy{Owner: "reconciler"})
			if got := summary(p); !slices.Equal(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Fatalf("plan = %v, want %v (errors %v)", got, tt.want, p.Errors)
			}
			checkAuto(t, p, tt.wantAuto)
			reason := ""
			for _, a := range p.Actions {
				reason = a.Reason
				if tt.wantAuto != "" && a.Isolation != tt.wantAuto {
					t.Errorf("%s isolation = %s, want %s", a, a.Isolation, tt.wantAuto)
				}
			}
			assertFragments(t, "reason", reason, tt.wantReason, tt.notReason)
			assertProblem(t, "error", p.Errors, tt.wantError)
			assertProblem(t, "warning", p.Warnings, tt.wantWarning)
		})
	}
}

// checkAuto asserts the plan's one auto decision, or none.
func checkAuto(t *testing.T, p Plan, want spec.Isolation) {
	t.Helper()
	switch {
	case want == "" && len(p.Auto) != 0:
		t.Errorf("Auto = %+v, want none", p.Auto)
	case want == "":
	case len(p.Auto) != 1 || p.Auto[0].Isolation != want || p.Auto[0].Reason == "":
		t.Errorf("Auto = %+v, want web → %s with a reason", p.Auto, want)
	}
}

// assertFragments asserts that s has every fragment of want and none of not.
func assertFragments(t *testing.T, what, s string, want, not []string) {
	t.Helper()
	for _, f := range want {
		if !strings.Contains(s, f) {
			t.Errorf("%s %q\n  lacks %q", what, s, f)
		}
	}
	for _, f := range not {
		if strings.Contains(s, f) {
			t.Errorf("%s %q\n  has %q", what, s, f)
		}
	}
}

// assertProblem asserts one problem with every fragment of want, or none
// when want is empty.
func assertProblem(t *testing.T, what string, got []spec.Problem, want []string) {
	t.Helper()
	if len(want) == 0 {
		if len(got) != 0 {
			t.Errorf("%ss = %v, want none", what, got)
		}
		return
	}
	if len(got) != 1 {
		t.Fatalf("%ss = %v, want one", what, got)
	}
	assertFragments(t, what, got[0].Message, want, nil)
}
