package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/spec"
)

// noRecords hides the driver's RequestReader: a driver that keeps no
// record of what it created.
type noRecords struct{ driver.Driver }

// staleRecords reads back a record that disagrees with the live system
// (another spec hash): one that must not be described.
type staleRecords struct{ *sim.EmulatedHost }

func (s staleRecords) CreatedWith(ctx context.Context, id string) (driver.CreateRequest, error) {
	req, err := s.EmulatedHost.CreatedWith(ctx, id)
	req.SpecHash += "-stale"
	return req, err
}

func TestRecreateNamesTheFieldsThatChange(t *testing.T) {
	orders := func(env string, memoryMB int, image string) spec.Container {
		return ctr("orders-api", image, spec.IsolationProcess, func(c *spec.Container) {
			c.Spec.Env = map[string]string{"ORDERS_DB": env, "LOG": "info"}
			c.Spec.Resources.MemoryMB = memoryMB
		})
	}
	before := orders("Server=sql01", 1536, img2022)
	tests := []struct {
		name       string
		after      spec.Container
		records    string // "" kept, "none" or "stale"
		wantReason string
	}{
		{name: "the issue's example", after: orders("Server=sql02", 2048, "mcr.microsoft.com/windows/nanoserver:ltsc2022"),
			wantReason: "env.ORDERS_DB changed (value hidden), image " + img2022 + " → mcr.microsoft.com/windows/nanoserver:ltsc2022, resources.memoryMB 1536 → 2048"},
		{name: "an env value only", after: orders("Server=sql02", 1536, img2022),
			wantReason: "env.ORDERS_DB changed (value hidden)"},
		{name: "isolation and a field", after: func() spec.Container {
			c := orders("Server=sql01", 1024, img2022)
			c.Spec.Isolation = spec.IsolationHyperV
			return c
		}(), wantReason: "isolation process → hyperv; resources.memoryMB 1536 → 1024"},
		{name: "no record: the hashes", after: orders("Server=sql02", 1536, img2022), records: "none",
			wantReason: "spec changed (v1-"},
		{name: "a stale record: the hashes", after: orders("Server=sql02", 1536, img2022), records: "stale",
			wantReason: "spec changed (v1-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			var d driver.Driver = h
			switch tt.records {
			case "none":
				d = noRecords{h}
			case "stale":
				d = staleRecords{h}
			}
			ex := &Executor{Driver: d}
			ctx := context.Background()
			policy := Policy{Owner: "reconciler"}
			if _, err := Converge(ctx, d, spec.Set{Containers: []spec.Container{before}}, policy, ex, false); err != nil {
				t.Fatal(err)
			}
			for _, dryRun := range []bool{true, false} {
				plan, err := Converge(ctx, d, spec.Set{Containers: []spec.Container{tt.after}}, policy, ex, dryRun)
				if err != nil {
					t.Fatal(err)
				}
				if len(plan.Actions) != 1 || plan.Actions[0].Kind != ActionRecreate || !strings.HasPrefix(plan.Actions[0].Reason, tt.wantReason) {
					t.Fatalf("dry run %v: actions %+v, want a recreate because %q", dryRun, plan.Actions, tt.wantReason)
				}
				var out bytes.Buffer
				if err := WriteJSON(&out, plan); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(out.String(), "sql0") {
					t.Errorf("the JSON plan shows an environment value: %s", out.String())
				}
				var parsed struct {
					Actions []struct {
						Changes []spec.Change `json:"changes"`
					} `json:"actions"`
				}
				if err := json.Unmarshal(out.Bytes(), &parsed); err != nil {
					t.Fatal(err)
				}
				if got := len(parsed.Actions[0].Changes); (got == 0) != (tt.records != "") {
					t.Errorf("dry run %v: %d changes in the JSON plan (records %q)", dryRun, got, tt.records)
				}
			}
		})
	}
}
