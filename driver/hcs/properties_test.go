package hcs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestParseComputeSystemsFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []driver.System
	}{
		{
			file: "mixed-owners.json",
			want: []driver.System{
				{ID: "3f6e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f", Name: "3f6e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f",
					Owner: "docker", Isolation: spec.IsolationProcess, State: driver.StateRunning},
				{ID: "api_v1-0a1b2c3d4e5f6789", Name: "api", Owner: "reconciler", Isolation: spec.IsolationHyperV,
					State: driver.StateRunning, SpecHash: "v1-0a1b2c3d4e5f6789"},
				{ID: "db_v1-1122334455667788", Name: "db", Owner: "reconciler", Isolation: spec.IsolationProcess,
					State: driver.StateStopped, SpecHash: "v1-1122334455667788"},
				{ID: "web_v1-9c1d0e6f2a4b7c38", Name: "web", Owner: "reconciler", Isolation: spec.IsolationProcess,
					State: driver.StateRunning, SpecHash: "v1-9c1d0e6f2a4b7c38"},
				{ID: "web_v1-aaaabbbbccccdddd", Name: "web", Owner: "ops-tool", Isolation: spec.IsolationProcess,
					State: driver.StateCreated, SpecHash: "v1-aaaabbbbccccdddd"},
			},
		},
		{
			file: "hyperv-no-runtime-id.json",
			want: []driver.System{
				{ID: "cache_v1-00ff00ff00ff00ff", Name: "cache", Owner: "reconciler", Isolation: spec.IsolationHyperV,
					State: driver.StateRunning, SpecHash: "v1-00ff00ff00ff00ff"},
			},
		},
		{
			file: "two-owners.json",
			want: []driver.System{
				{ID: "api_v1-0a1b2c3d4e5f6789", Name: "api", Owner: "reconciler", Isolation: spec.IsolationProcess,
					State: driver.StateRunning, SpecHash: "v1-0a1b2c3d4e5f6789"},
				{ID: "my_web", Name: "my_web", Owner: "containerd", Isolation: spec.IsolationProcess, State: driver.StateRunning},
				{ID: driver.SystemID("web", "reconciler", "v1-9c1d0e6f2a4b7c38"), Name: "web", Owner: "reconciler", Isolation: spec.IsolationProcess,
					State: driver.StateRunning, SpecHash: "v1-9c1d0e6f2a4b7c38"},
				{ID: driver.SystemID("web", "team:web", "v1-9c1d0e6f2a4b7c38"), Name: "web", Owner: "team:web", Isolation: spec.IsolationProcess,
					State: driver.StateRunning, SpecHash: "v1-9c1d0e6f2a4b7c38"},
			},
		},
		{file: "empty.json", want: []driver.System{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "properties", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseComputeSystems(raw, nil)
			if err != nil {
				t.Fatalf("parseComputeSystems: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseComputeSystemsInvalid(t *testing.T) {
	for _, raw := range []string{"", "{", `{"Id":"x"}`, `[{"Id": 3}]`} {
		if _, err := parseComputeSystems([]byte(raw), nil); err == nil {
			t.Errorf("parseComputeSystems(%q) succeeded, want an error", raw)
		}
	}
}

func TestIsolationOf(t *testing.T) {
	const vm = "5d9b4f3e-1a2c-4b6d-8e0f-a1b2c3d4e5f6"
	tests := []struct {
		name     string
		p        containerProperties
		recorded spec.Isolation
		want     spec.Isolation
	}{
		{"no runtime id, no record", containerProperties{}, "", spec.IsolationProcess},
		{"zero guid, no record", containerProperties{RuntimeID: zeroGUID}, "", spec.IsolationProcess},
		{"braced zero guid, no record", containerProperties{RuntimeID: "{" + zeroGUID + "}"}, "", spec.IsolationProcess},
		{"runtime id", containerProperties{RuntimeID: vm}, "", spec.IsolationHyperV},
		{"image path only", containerProperties{RuntimeImagePath: `C:\x\UtilityVM`}, "", spec.IsolationHyperV},
		{"zero id with image path", containerProperties{RuntimeID: zeroGUID, RuntimeImagePath: `C:\x\UtilityVM`}, "", spec.IsolationHyperV},
		{"no evidence: the recorded hyperv stands", containerProperties{RuntimeID: zeroGUID}, spec.IsolationHyperV, spec.IsolationHyperV},
		{"no evidence: the recorded process stands", containerProperties{}, spec.IsolationProcess, spec.IsolationProcess},
		{"live evidence beats the record", containerProperties{RuntimeID: vm}, spec.IsolationProcess, spec.IsolationHyperV},
		{"an unresolved record is no evidence", containerProperties{}, spec.IsolationDefault, spec.IsolationProcess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isolationOf(tt.p, tt.recorded); got != tt.want {
				t.Errorf("isolationOf(%+v, %q) = %s, want %s", tt.p, tt.recorded, got, tt.want)
			}
		})
	}
}

// TestParseComputeSystemsRecorded: a Hyper-V container whose entry shows no
// utility VM is listed as Hyper-V when the driver recorded it so, and every
// other system keeps what its own entry shows.
func TestParseComputeSystemsRecorded(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "properties", "mixed-owners.json"))
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]spec.Isolation{
		"web_v1-9c1d0e6f2a4b7c38": spec.IsolationHyperV,
		"api_v1-0a1b2c3d4e5f6789": spec.IsolationProcess,
	}
	got, err := parseComputeSystems(raw, recorded)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]spec.Isolation{
		"web_v1-9c1d0e6f2a4b7c38": spec.IsolationHyperV,  // no evidence: the record
		"api_v1-0a1b2c3d4e5f6789": spec.IsolationHyperV,  // its runtime id beats the record
		"db_v1-1122334455667788":  spec.IsolationProcess, // no record
		"web_v1-aaaabbbbccccdddd": spec.IsolationProcess, // foreign, no record
	}
	seen := 0
	for _, s := range got {
		if w, ok := want[s.ID]; ok {
			seen++
			if s.Isolation != w {
				t.Errorf("%s: isolation %s, want %s", s.ID, s.Isolation, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d systems checked", seen, len(want))
	}
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		name string
		p    containerProperties
		want driver.State
	}{
		{"running", containerProperties{State: "Running"}, driver.StateRunning},
		{"paused", containerProperties{State: "Paused"}, driver.StateRunning},
		{"created", containerProperties{State: "Created"}, driver.StateCreated},
		{"stopped", containerProperties{State: "Stopped"}, driver.StateStopped},
		{"stopped flag wins", containerProperties{State: "Running", Stopped: true}, driver.StateStopped},
		{"unknown", containerProperties{State: "SavedAsTemplate"}, driver.StateCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stateOf(tt.p); got != tt.want {
				t.Errorf("stateOf(%+v) = %s, want %s", tt.p, got, tt.want)
			}
		})
	}
}

func TestSystemStopped(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "properties", "mixed-owners.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want bool
	}{
		{"web_v1-9c1d0e6f2a4b7c38", false},             // Running
		{"web_v1-aaaabbbbccccdddd", false},             // Created: exists, not known to be down
		{"db_v1-1122334455667788", true},               // Stopped
		{"gone_v1-0000000000000000", true},             // absent
		{"5d9b4f3e-1a2c-4b6d-8e0f-a1b2c3d4e5f6", true}, // a utility VM, not a container
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := systemStopped(raw, tt.id)
			if err != nil || got != tt.want {
				t.Errorf("systemStopped(%s) = %v, %v; want %v", tt.id, got, err, tt.want)
			}
		})
	}
	if _, err := systemStopped([]byte(`{"Id":`), "x"); err == nil {
		t.Error("systemStopped of a truncated list: want an error, not a verdict")
	}
}
