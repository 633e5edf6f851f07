package reconcile

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/golden"
	"github.com/reconciler/reconciler/spec"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/plans")

// goldenPlansDir holds the text and JSON renderings of renderCases.
const goldenPlansDir = "testdata/plans"

// Spec hashes as the planner and the drivers write them.
const (
	hashOld = "v1-0123456789abcdef"
	hashNew = "v1-fedcba9876543210"
)

// unknownImageWarning is what the planner warns of an image whose OS build
// its tag does not tell.
const unknownImageWarning = "the image's OS build cannot be told from the image reference, so it cannot be checked against Windows Server 2022 (10.0.20348.1), where process isolation needs an ltsc2022 image; set spec.osVersion (e.g. \"osVersion: 10.0.20348\") or use a tag that names the release"

// limitHold is the hold reason of the removal limit.
const limitHold = "removing 2 more would make 3 removal(s) within 10m0s, beyond --max-removals 50% of the 3 containers owned in that window; approve them with `reconciler removals approve` (running agent) or pass --allow-mass-removal"

// renderCases are fixed plans, one per shape a pass can report: together
// they have every action kind in every status, errors (with and without a
// line and field), warnings, held removals of two reasons, and both
// summaries. Each is rendered as text (without colour, and with colour
// where color is set) and as JSON, and compared with its golden files.
var renderCases = []struct {
	name  string
	plan  Plan
	color bool
}{
	{name: "empty", plan: Plan{DryRun: true, Host: win11}},
	{name: "planned", plan: Plan{
		DryRun: true,
		Host:   server2022,
		Actions: []Action{
			{Kind: ActionRemove, Name: "old", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "no longer declared", Status: StatusPlanned},
			{Kind: ActionRemove, Name: "web", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "duplicate of web (id web_3f1a2b4c5d6e_" + hashNew + ")", Status: StatusPlanned},
			{Kind: ActionRecreate, Name: "api", Isolation: spec.IsolationHyperV, Image: img2019,
				Reason: "isolation process → hyperv", Source: "api/api.yaml:1", Status: StatusPlanned},
			{Kind: ActionRecreate, Name: "web", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "spec changed (" + hashOld + " → " + hashNew + ")", Source: "web.yaml:1", Status: StatusPlanned},
			{Kind: ActionCreate, Name: "app", Isolation: spec.IsolationProcess, Image: "registry.example.com/app:v2",
				Reason: "not running", Source: "app.yaml:1", Status: StatusPlanned},
		},
		Unchanged: []string{"cache", "db"},
		Warnings:  []spec.Problem{{File: "app.yaml", Line: 1, Name: "app", Message: unknownImageWarning}},
	}},
	{name: "applied", plan: Plan{
		Host: server2022,
		Actions: []Action{
			{Kind: ActionRemove, Name: "old", Isolation: spec.IsolationHyperV, Image: img2019,
				Reason: "no longer declared", Status: StatusDone},
			{Kind: ActionRecreate, Name: "web", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "exited with code 1 (restartPolicy always)", Source: "web.yaml:1", Status: StatusDone},
			{Kind: ActionCreate, Name: "api", Isolation: spec.IsolationHyperV, Image: img2019,
				Reason: "not running", Source: "nested/api.yaml:3", Status: StatusDone},
		},
		Unchanged: []string{"db"},
	}},
	{name: "failed", color: true, plan: Plan{
		Host: server2022,
		Actions: []Action{
			{Kind: ActionRemove, Name: "old", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "no longer declared", Status: StatusFailed,
				Err: errors.New("remove old_3f1a2b4c5d6e_" + hashOld + ": operation timed out")},
			{Kind: ActionRecreate, Name: "api", Isolation: spec.IsolationProcess, Image: "registry.example.com/api:v2",
				Reason: "image registry.example.com/api:v1 → registry.example.com/api:v2", Source: "api.yaml:1", Status: StatusFailed,
				Err: errors.New("create failed: injected permanent failure; restored the previous spec (" + hashOld + ")")},
			{Kind: ActionRecreate, Name: "web", Isolation: spec.IsolationHyperV, Image: img2022,
				Reason: "isolation process → hyperv", Source: "web.yaml:1", Status: StatusFailed,
				Err: errors.New("create failed: injected permanent failure; restoring the previous spec (" + hashOld + ") failed too: injected permanent failure; web is NOT running")},
			{Kind: ActionCreate, Name: "app", Isolation: spec.IsolationProcess, Image: "registry.example.com/app:v3",
				Reason: "not running", Source: "app.yaml:1", Status: StatusFailed,
				Err: errors.New("image not ready: pull registry.example.com/app:v3: manifest unknown")},
			{Kind: ActionCreate, Name: "db", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "not running", Source: "db.yaml:1", Status: StatusDone},
		},
	}},
	{name: "held-problems", color: true, plan: Plan{
		DryRun: true,
		Host:   server2022,
		Actions: []Action{
			{Kind: ActionCreate, Name: "app", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "not running", Source: "app.yaml:1", Status: StatusPlanned},
			{Kind: ActionRemove, Name: "a", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "no longer declared", Status: StatusHeld,
				HoldReason: "2 manifest problem(s) in the desired set: a partial view never deletes; fix them first"},
			{Kind: ActionRemove, Name: "b", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "no longer declared", Status: StatusHeld,
				HoldReason: "2 manifest problem(s) in the desired set: a partial view never deletes; fix them first"},
		},
		Unchanged: []string{},
		Errors: []spec.Problem{
			{File: "bad.yaml", Line: 4, Name: "api", Field: "spec.isolation", Message: `must be one of process, hyperv, default, auto, not "hyper-v"`},
			{File: "broken.yaml", Message: "yaml: line 3: did not find expected key"},
		},
		Warnings: []spec.Problem{{File: "empty.yaml", Message: "declares no container"}},
	}},
	{name: "held-limit", color: true, plan: Plan{
		Host: server2022,
		Actions: []Action{
			{Kind: ActionRemove, Name: "web", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "duplicate of web (id web_3f1a2b4c5d6e_" + hashNew + ")", Status: StatusDone},
			{Kind: ActionRemove, Name: "c", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "no longer declared; removal approved", Status: StatusDone},
			{Kind: ActionRemove, Name: "a", Isolation: spec.IsolationProcess, Image: img2022,
				Reason: "no longer declared", Status: StatusHeld, HoldReason: limitHold},
			{Kind: ActionRemove, Name: "b", Isolation: spec.IsolationHyperV, Image: img2019,
				Reason: "no longer declared", Status: StatusHeld, HoldReason: limitHold},
		},
		Unchanged: []string{"web"},
	}},
	{name: "auto", plan: upgradedHostPlan()},
}

// upgradedHostPlan is the planner's own plan for a Windows Server 2019
// host upgraded in place to 2022: an ltsc2019 container declared
// isolation: auto moves to hyperv, one declared process is refused and
// kept with the host change named, and the auto containers that need no
// change show what auto chose for them.
func upgradedHostPlan() Plan {
	on2019 := func(s *driver.System) { s.HostOS = spec.OSVersion{Build: 17763, Revision: 5329} }
	legacy := ctr("legacy", img2019, spec.IsolationAuto)
	pinned := ctr("pinned", img2019, spec.IsolationProcess)
	cache := ctr("cache", img2019, spec.IsolationAuto)
	api := ctr("api", img2022, spec.IsolationAuto)
	web := ctr("web", img2022, spec.IsolationAuto)
	set := spec.Set{Containers: []spec.Container{legacy, pinned, cache, api, web}}
	live := []driver.System{
		running(legacy, spec.IsolationProcess, on2019),
		running(pinned, spec.IsolationProcess, on2019),
		running(cache, spec.IsolationHyperV, on2019),
		running(web, spec.IsolationProcess),
	}
	p := ComputePlan(set, live, server2022, Policy{Owner: "reconciler"})
	p.DryRun = true
	return p
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			var text, js bytes.Buffer
			if err := WriteText(&text, tc.plan, false); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(goldenPlansDir, tc.name+".txt"), text.Bytes(), *update)
			if err := WriteJSON(&js, tc.plan); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(goldenPlansDir, tc.name+".json"), js.Bytes(), *update)
			if !tc.color {
				return
			}
			var colored bytes.Buffer
			if err := WriteText(&colored, tc.plan, true); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(goldenPlansDir, tc.name+".color.txt"), colored.Bytes(), *update)
		})
	}
}

// TestGoldenPlansAreAllUsed fails on a golden file no case renders, so a
// renamed case leaves nothing stale behind.
func TestGoldenPlansAreAllUsed(t *testing.T) {
	used := map[string]bool{}
	for _, tc := range renderCases {
		used[tc.name+".txt"], used[tc.name+".json"] = true, true
		if tc.color {
			used[tc.name+".color.txt"] = true
		}
	}
	entries, err := os.ReadDir(goldenPlansDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !used[e.Name()] {
			t.Errorf("%s is rendered by no case of renderCases: remove it", filepath.Join(goldenPlansDir, e.Name()))
		}
	}
}

// TestRenderCasesCoverEveryKindAndStatus keeps renderCases complete: every
// action kind appears in every status it can have (a create is never
// held), with colour and without.
func TestRenderCasesCoverEveryKindAndStatus(t *testing.T) {
	seen := map[string]bool{}
	var errs, warns, dry, applied int
	for _, tc := range renderCases {
		for _, a := range tc.plan.Actions {
			seen[string(a.Kind)+" "+string(a.Status)] = true
		}
		errs += len(tc.plan.Errors)
		warns += len(tc.plan.Warnings)
		if tc.plan.DryRun {
			dry++
		} else {
			applied++
		}
	}
	for _, k := range allActionKinds {
		for _, s := range allStatuses {
			if s == StatusHeld && k != ActionRemove {
				continue
			}
			if !seen[string(k)+" "+string(s)] {
				t.Errorf("no golden plan has a %s action %s", k, s)
			}
		}
	}
	if errs == 0 || warns == 0 || dry == 0 || applied == 0 {
		t.Errorf("golden plans have %d error(s), %d warning(s), %d dry run(s), %d applied: want some of each", errs, warns, dry, applied)
	}
}
