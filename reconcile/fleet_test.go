package reconcile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func fleetOf(t *testing.T, text string) []spec.FleetHost {
	t.Helper()
	f, ps := spec.ParseFleet([]byte(text), "fleet.yaml")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return f.Hosts
}

// Every host plans the set by the planner's own rules: placement,
// isolation (auto decided per host), compatibility; problems of the set
// are said once, and a placement admitting no host is an error.
func TestPlanFleet(t *testing.T) {
	hosts := fleetOf(t, "hosts:\n  - {name: old, build: ltsc2019}\n  - {name: new, build: ltsc2022, labels: {site: paris}}\n")
	web := ctr("web", "mcr.microsoft.com/windows/servercore:ltsc2019", spec.IsolationAuto)
	api := ctr("api", img2022, spec.IsolationProcess, placed(spec.Placement{OSBuilds: []string{"20348"}}))
	lost := ctr("lost", img2022, spec.IsolationProcess, placed(spec.Placement{Hostnames: []string{"nwe"}}))
	broken := spec.Problem{File: "bad.yaml", Message: "bad"}
	set := spec.Set{Containers: []spec.Container{web, api, lost}, Errors: []spec.Problem{broken}}
	fp := PlanFleet(hosts, []spec.Set{set, set}, Policy{Owner: "reconciler"})

	got := map[string][]string{}
	for _, h := range fp.Hosts {
		for _, a := range h.Plan.Actions {
			got[h.Name] = append(got[h.Name], a.Name+"/"+string(a.Isolation))
		}
	}
	if strings.Join(got["old"], " ") != "web/process" || strings.Join(got["new"], " ") != "api/process web/hyperv" {
		t.Errorf("runs %v", got)
	}
	if len(fp.Errors) != 2 || fp.Errors[0] != broken || fp.Errors[1].Name != "lost" || fp.Errors[1].Field != "spec.placement" {
		t.Errorf("errors %v", fp.Errors)
	}
	if !fp.Failed() {
		t.Error("not failed")
	}

	var text bytes.Buffer
	if err := WriteFleet(&text, fp, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"new   Windows Server 2022 (10.0.20348)  web        auto → hyperv", "! bad.yaml: bad", "2 host(s), 3 container(s) placed: 2 error(s), 0 warning(s)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(fp.View())
	if err != nil {
		t.Fatal(err)
	}
	var back FleetJSON
	if err := json.Unmarshal(b, &back); err != nil || len(back.Hosts) != 2 || back.Hosts[1].Containers[1].AutoReason == "" {
		t.Errorf("json %s: %v", b, err)
	}
}

// An incompatible image fails only the hosts that cannot run it.
func TestPlanFleetIncompatible(t *testing.T) {
	hosts := fleetOf(t, "hosts:\n  - {name: old, build: 17763}\n  - {name: new, build: 20348}\n")
	set := spec.Set{Containers: []spec.Container{ctr("api", img2022, spec.IsolationProcess)}}
	fp := PlanFleet(hosts, []spec.Set{set, set}, Policy{Owner: "reconciler"})
	if len(fp.Hosts[0].Plan.Errors) != 1 || len(fp.Hosts[1].Plan.Errors) != 0 || !fp.Failed() {
		t.Errorf("errors old %v new %v", fp.Hosts[0].Plan.Errors, fp.Hosts[1].Plan.Errors)
	}
}
