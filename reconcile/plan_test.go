package reconcile

import (
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

var (
	server2022 = spec.Host{Build: 20348, Revision: 1, SKU: spec.SKUServer, HyperV: true}
	win11      = spec.Host{Build: 22631, SKU: spec.SKUClient, HyperV: true}
)

const (
	img2022 = "mcr.microsoft.com/windows/servercore:ltsc2022"
	img2019 = "mcr.microsoft.com/windows/servercore:ltsc2019"
	img2025 = "mcr.microsoft.com/windows/servercore:ltsc2025"
)

// ctr builds a defaulted container.
func ctr(name, image string, iso spec.Isolation, mods ...func(*spec.Container)) spec.Container {
	c := spec.Container{APIVersion: spec.APIVersion, Kind: spec.Kind,
		Metadata: spec.Metadata{Name: name},
		Spec:     spec.ContainerSpec{Image: image, Isolation: iso},
		Origin:   spec.Origin{File: name + ".yaml", Line: 1}}
	for _, m := range mods {
		m(&c)
	}
	c.ApplyDefaults()
	return c
}

// running is the live system the agent would have made for c.
func running(c spec.Container, iso spec.Isolation, mods ...func(*driver.System)) driver.System {
	s := driver.System{ID: driver.SystemID(c.Metadata.Name, "reconciler", c.Spec.Hash()), Name: c.Metadata.Name, Owner: "reconciler",
		Isolation: iso, Image: c.Spec.Image, State: driver.StateRunning, SpecHash: c.Spec.Hash(), Created: time.Unix(1000, 0)}
	for _, m := range mods {
		m(&s)
	}
	return s
}

func stopped(code int) func(*driver.System) {
	return func(s *driver.System) { s.State, s.ExitCode = driver.StateStopped, code }
}

func owner(o string) func(*driver.System) { return func(s *driver.System) { s.Owner = o } }

// unmanaged makes a system one no agent made: its ID is its name and it
// carries no spec hash (docker's, or `reconciler sim create`'s).
func unmanaged(s *driver.System) { s.ID, s.SpecHash = s.Name, "" }

func restart(p spec.RestartPolicy) func(*spec.Container) {
	return func(c *spec.Container) { c.Spec.RestartPolicy = p }
}

// summary renders a plan's decisions compactly for comparison:
// "create web", "recreate api", "remove old", "held remove old",
// "unchanged db".
func summary(p Plan) []string {
	var out []string
	for _, a := range p.Actions {
		held := ""
		if a.Status == StatusHeld {
			held = "held "
		}
		out = append(out, held+string(a.Kind)+" "+a.Name)
	}
	for _, n := range p.Unchanged {
		out = append(out, "unchanged "+n)
	}
	return out
}

func TestComputePlan(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationDefault)
	webHyperV := ctr("web", img2022, spec.IsolationHyperV)
	webNewImage := ctr("web", "mcr.microsoft.com/windows/servercore:ltsc2022-amd64", spec.IsolationProcess)
	old := ctr("old", img2022, spec.IsolationProcess)
	db := ctr("db", img2022, spec.IsolationProcess)
	cache := ctr("cache", img2022, spec.IsolationProcess)
	tests := []struct {
		name         string
		desired      spec.Set
		observed     []driver.System
		host         spec.Host
		policy       Policy
		want         []string
		wantReason   map[string]string // action name → reason fragment
		wantIso      map[string]spec.Isolation
		wantErrors   []string // fragments, one per error
		wantWarnings []string // fragments, one per warning
		wantHold     string   // fragment of every held action's hold reason
	}{
		{
			name:       "missing container is created with the server default isolation",
			desired:    spec.Set{Containers: []spec.Container{web}},
			want:       []string{"create web"},
			wantReason: map[string]string{"web": "not running"},
			wantIso:    map[string]spec.Isolation{"web": spec.IsolationProcess},
		},
		{
			name:       "client hosts default to hyperv",
			desired:    spec.Set{Containers: []spec.Container{web}},
			host:       win11,
			want:       []string{"create web"},
			wantIso:    map[string]spec.Isolation{"web": spec.IsolationHyperV},
			wantReason: map[string]string{"web": "not running"},
		},
		{
			name:     "matching running container is unchanged",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: []driver.System{running(web, spec.IsolationProcess)},
			want:     []string{"unchanged web"},
		},
		{
			name:       "isolation change is a recreate naming both modes",
			desired:    spec.Set{Containers: []spec.Container{webHyperV}},
			observed:   []driver.System{running(web, spec.IsolationProcess)},
			want:       []string{"recreate web"},
			wantReason: map[string]string{"web": "isolation process → hyperv"},
			wantIso:    map[string]spec.Isolation{"web": spec.IsolationHyperV},
		},
		{
			name:       "image change is a recreate naming both images",
			desired:    spec.Set{Containers: []spec.Container{webNewImage}},
			observed:   []driver.System{running(web, spec.IsolationProcess)},
			want:       []string{"recreate web"},
			wantReason: map[string]string{"web": "image " + img2022 + " → mcr.microsoft.com/windows/servercore:ltsc2022-amd64"},
		},
		{
			name: "other spec change is a recreate naming the hashes",
			desired: spec.Set{Containers: []spec.Container{ctr("web", img2022, spec.IsolationDefault, func(c *spec.Container) {
				c.Spec.Env = map[string]string{"LOG_LEVEL": "debug"}
			})}},
			observed:   []driver.System{running(web, spec.IsolationProcess)},
			want:       []string{"recreate web"},
			wantReason: map[string]string{"web": "spec changed (" + web.Spec.Hash()},
		},
		{
			name:       "exited container is recreated under restartPolicy always",
			desired:    spec.Set{Containers: []spec.Container{web}},
			observed:   []driver.System{running(web, spec.IsolationProcess, stopped(3))},
			want:       []string{"recreate web"},
			wantReason: map[string]string{"web": "exited with code 3 (restartPolicy always)"},
		},
		{
			name:     "exited container is left alone under restartPolicy never",
			desired:  spec.Set{Containers: []spec.Container{ctr("web", img2022, "", restart(spec.RestartNever))}},
			observed: []driver.System{running(ctr("web", img2022, "", restart(spec.RestartNever)), spec.IsolationProcess, stopped(1))},
			want:     []string{"unchanged web"},
		},
		{
			name:     "on-failure leaves a clean exit alone",
			desired:  spec.Set{Containers: []spec.Container{ctr("web", img2022, "", restart(spec.RestartOnFailure))}},
			observed: []driver.System{running(ctr("web", img2022, "", restart(spec.RestartOnFailure)), spec.IsolationProcess, stopped(0))},
			want:     []string{"unchanged web"},
		},
		{
			name:       "on-failure recreates a failed exit",
			desired:    spec.Set{Containers: []spec.Container{ctr("web", img2022, "", restart(spec.RestartOnFailure))}},
			observed:   []driver.System{running(ctr("web", img2022, "", restart(spec.RestartOnFailure)), spec.IsolationProcess, stopped(2))},
			want:       []string{"recreate web"},
			wantReason: map[string]string{"web": "exited with code 2 (restartPolicy on-failure)"},
		},
		{
			name:     "undeclared owned container is removed, foreign ones never",
			desired:  spec.Set{Containers: []spec.Container{web, db, cache}},
			observed: []driver.System{running(web, spec.IsolationProcess), running(db, spec.IsolationProcess), running(cache, spec.IsolationProcess), running(old, spec.IsolationProcess), running(ctr("iis", img2022, ""), spec.IsolationProcess, owner("docker"))},
			want:     []string{"remove old", "unchanged cache", "unchanged db", "unchanged web"},
		},
		{
			name:       "a name held by a foreign system is an error for that container only",
			desired:    spec.Set{Containers: []spec.Container{web, db}},
			observed:   []driver.System{running(web, spec.IsolationProcess, owner("docker"), unmanaged)},
			want:       []string{"create db"},
			wantErrors: []string{`the name "web" is taken by compute system web owned by "docker"`},
		},
		{
			name:       "invalid manifest holds every removal but valid new files apply",
			desired:    spec.Set{Containers: []spec.Container{db}, Errors: []spec.Problem{{File: "bad.yaml", Line: 3, Message: "boom"}}},
			observed:   []driver.System{running(old, spec.IsolationProcess), running(web, spec.IsolationProcess), running(cache, spec.IsolationProcess)},
			want:       []string{"held remove cache", "create db", "held remove old", "held remove web"},
			wantErrors: []string{"boom"},
			wantHold:   "1 manifest problem(s) in the desired set: a partial view never deletes",
		},
		{
			name:         "a recreate that failed waits while the restored container runs",
			desired:      spec.Set{Containers: []spec.Container{webNewImage}},
			observed:     []driver.System{running(web, spec.IsolationProcess)},
			policy:       Policy{Deferred: map[string]Deferral{"web": {SpecHash: webNewImage.Spec.Hash(), Failures: 2, Err: "port taken"}}},
			want:         []string{"unchanged web"},
			wantWarnings: []string{"deferred until 00:00:00: it failed 2 time(s), last with: port taken; the previous spec keeps running"},
		},
		{
			name:     "a deferred recreate goes ahead when the old container stopped",
			desired:  spec.Set{Containers: []spec.Container{webNewImage}},
			observed: []driver.System{running(web, spec.IsolationProcess, stopped(1))},
			policy:   Policy{Deferred: map[string]Deferral{"web": {SpecHash: webNewImage.Spec.Hash()}}},
			want:     []string{"recreate web"},
		},
		{
			name:     "a deferral of another spec does not hold a new one",
			desired:  spec.Set{Containers: []spec.Container{webNewImage}},
			observed: []driver.System{running(web, spec.IsolationProcess)},
			policy:   Policy{Deferred: map[string]Deferral{"web": {SpecHash: "v1-other"}}},
			want:     []string{"recreate web"},
		},
		{
			name:         "a file that declares nothing holds every removal",
			desired:      spec.Set{Containers: []spec.Container{db}, Warnings: []spec.Problem{{File: "web.yaml", Message: "declares nothing", Warning: true}}},
			observed:     []driver.System{running(web, spec.IsolationProcess)},
			want:         []string{"create db", "held remove web"},
			wantWarnings: []string{"declares nothing"},
			wantHold:     "1 manifest problem(s) in the desired set: a partial view never deletes",
		},
		{
			name:     "a source that cannot see its input holds removals",
			desired:  spec.Set{Containers: []spec.Container{web}, HoldRemovals: true, HoldReason: "folder /m vanished"},
			observed: []driver.System{running(web, spec.IsolationProcess), running(old, spec.IsolationProcess)},
			want:     []string{"held remove old", "unchanged web"},
			wantHold: "folder /m vanished",
		},
		{
			name:     "removing more than half the owned containers is held",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: []driver.System{running(web, spec.IsolationProcess), running(old, spec.IsolationProcess), running(db, spec.IsolationProcess)},
			want:     []string{"held remove db", "held remove old", "unchanged web"},
			wantHold: "removing 2 more would make 2 removal(s) in one pass, beyond --max-removals 50% of the 3 containers owned",
		},
		{
			name:     "mass removal with --allow-mass-removal",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: []driver.System{running(web, spec.IsolationProcess), running(old, spec.IsolationProcess), running(db, spec.IsolationProcess)},
			policy:   Policy{AllowMassRemoval: true},
			want:     []string{"remove db", "remove old", "unchanged web"},
		},
		{
			name:       "removing exactly half is allowed",
			desired:    spec.Set{Containers: []spec.Container{web}},
			observed:   []driver.System{running(web, spec.IsolationProcess), running(old, spec.IsolationProcess)},
			want:       []string{"remove old", "unchanged web"},
			wantReason: map[string]string{"old": "no longer declared"},
		},
		{
			name:       "an incompatible new spec never tears down the running old one",
			desired:    spec.Set{Containers: []spec.Container{ctr("web", img2019, spec.IsolationProcess), db}},
			observed:   []driver.System{running(web, spec.IsolationProcess)},
			want:       []string{"create db"},
			wantErrors: []string{"10.0.17763"},
		},
		{
			name:       "an image newer than the host is refused in hyperv too",
			desired:    spec.Set{Containers: []spec.Container{ctr("web", img2025, spec.IsolationHyperV)}},
			want:       nil,
			wantErrors: []string{"10.0.26100"},
		},
		{
			name:       "an older image runs with hyperv",
			desired:    spec.Set{Containers: []spec.Container{ctr("web", img2019, spec.IsolationHyperV)}},
			want:       []string{"create web"},
			wantIso:    map[string]spec.Isolation{"web": spec.IsolationHyperV},
			wantReason: map[string]string{"web": "not running"},
		},
		{
			name:         "unknown image version is a warning",
			desired:      spec.Set{Containers: []spec.Container{ctr("web", "example.com/app:1.2", spec.IsolationProcess)}},
			want:         []string{"create web"},
			wantWarnings: []string{"osVersion"},
		},
		{
			name:       "unknown image version is an error under strict",
			desired:    spec.Set{Containers: []spec.Container{ctr("web", "example.com/app:1.2", spec.IsolationProcess)}},
			policy:     Policy{Strict: true},
			wantErrors: []string{"--strict"},
		},
		{
			name: "host access is an error under deny-host-access",
			desired: spec.Set{Containers: []spec.Container{ctr("web", img2022, "", func(c *spec.Container) {
				c.Spec.Ports = []spec.Port{{HostPort: 8080, ContainerPort: 80}}
			})}},
			policy:     Policy{DenyHostAccess: true},
			wantErrors: []string{"--deny-host-access"},
		},
		{
			name:       "duplicates of one name are cleaned up, keeping the matching one",
			desired:    spec.Set{Containers: []spec.Container{web}},
			observed:   []driver.System{running(web, spec.IsolationProcess), running(web, spec.IsolationHyperV, func(s *driver.System) { s.ID = "web_v1-stale" })},
			want:       []string{"remove web", "unchanged web"},
			wantReason: map[string]string{"web": "duplicate of web"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tt.host
			if host.Build == 0 {
				host = server2022
			}
			policy := tt.policy
			policy.Owner = "reconciler"
			plan := ComputePlan(tt.desired, tt.observed, host, policy)
			if got := summary(plan); strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("plan = %q, want %q", got, tt.want)
			}
			for _, a := range plan.Actions {
				if want, ok := tt.wantReason[a.Name]; ok && !strings.Contains(a.Reason, want) {
					t.Errorf("%s reason = %q, want it to contain %q", a, a.Reason, want)
				}
				if want, ok := tt.wantIso[a.Name]; ok && a.Isolation != want {
					t.Errorf("%s isolation = %s, want %s", a, a.Isolation, want)
				}
				switch {
				case a.Status == StatusHeld && (tt.wantHold == "" || !strings.Contains(a.HoldReason, tt.wantHold)):
					t.Errorf("%s held: %q, want a hold reason with %q", a, a.HoldReason, tt.wantHold)
				case a.Status != StatusHeld && a.Status != StatusPlanned:
					t.Errorf("%s status = %s, want planned", a, a.Status)
				}
			}
			checkProblems(t, "error", plan.Errors, tt.wantErrors)
			checkProblems(t, "warning", plan.Warnings, tt.wantWarnings)
		})
	}
}

func checkProblems(t *testing.T, kind string, got []spec.Problem, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d %ss %v, want %d", len(got), kind, got, len(want))
		return
	}
	for i, w := range want {
		if !strings.Contains(got[i].Error(), w) {
			t.Errorf("%s %d = %q, want it to contain %q", kind, i, got[i].Error(), w)
		}
	}
}

func TestComputePlanRecreateCarriesTheOldSystem(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationHyperV)
	old := running(ctr("web", img2022, spec.IsolationProcess), spec.IsolationProcess)
	plan := ComputePlan(spec.Set{Containers: []spec.Container{web}}, []driver.System{old}, server2022, Policy{Owner: "reconciler"})
	if len(plan.Actions) != 1 {
		t.Fatalf("actions = %v", plan.Actions)
	}
	a := plan.Actions[0]
	if len(a.remove) != 1 || a.remove[0].ID != old.ID {
		t.Errorf("recreate removes %v, want %s", a.remove, old.ID)
	}
	if a.request == nil || a.request.Isolation != spec.IsolationHyperV || a.request.Owner != "reconciler" || a.request.SpecHash != web.Spec.Hash() || a.request.Name != "web" {
		t.Errorf("request = %+v", a.request)
	}
	if a.Source != "web.yaml:1" {
		t.Errorf("source = %q", a.Source)
	}
}
