package reconcile

import (
	"maps"
	"slices"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

// TestSpecHashes: a spec handed out again as the same value is not hashed
// again; any change, in any kind of field, is hashed, and the hash is
// always the spec's own.
func TestSpecHashes(t *testing.T) {
	base := ctr("web", img2022, spec.IsolationProcess, func(c *spec.Container) {
		c.Spec.Command = []string{"ping", "localhost"}
		c.Spec.Env = map[string]string{"MODE": "production"}
		c.Spec.Ports = []spec.Port{{HostPort: 8080, ContainerPort: 80}}
	})
	tests := []struct {
		name        string
		change      func(c *spec.Container)
		wantHashing bool
	}{
		{name: "the same value again (a copy sharing its slices and maps)", change: func(*spec.Container) {}},
		{name: "image", change: func(c *spec.Container) { c.Spec.Image = img2019 }, wantHashing: true},
		{name: "a number in a nested struct", change: func(c *spec.Container) { c.Spec.Resources.MemoryMB = 512 }, wantHashing: true},
		{name: "a command of the same content, parsed again", change: func(c *spec.Container) { c.Spec.Command = slices.Clone(c.Spec.Command) }, wantHashing: true},
		{name: "an env parsed again", change: func(c *spec.Container) { c.Spec.Env = maps.Clone(c.Spec.Env) }, wantHashing: true},
		{name: "a port more", change: func(c *spec.Container) {
			c.Spec.Ports = append(slices.Clip(c.Spec.Ports), spec.Port{HostPort: 8443, ContainerPort: 443})
		}, wantHashing: true},
		{name: "network mode", change: func(c *spec.Container) { c.Spec.Network.Mode = "transparent" }, wantHashing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h SpecHashes
			first := base
			if got := h.Hash(&first); got != base.Spec.Hash() {
				t.Fatalf("first hash %s, want %s", got, base.Spec.Hash())
			}
			h.Sweep()
			next := base
			tt.change(&next)
			if got, want := h.Hash(&next), next.Spec.Hash(); got != want {
				t.Errorf("hash %s, want %s", got, want)
			}
			if hashed := h.computed == 2; hashed != tt.wantHashing {
				t.Errorf("hashed again = %v, want %v", hashed, tt.wantHashing)
			}
		})
	}
}

// TestSpecHashesSweep: a name not hashed between two sweeps is forgotten.
func TestSpecHashesSweep(t *testing.T) {
	var h SpecHashes
	web, db := ctr("web", img2022, ""), ctr("db", img2022, "")
	h.Hash(&web)
	h.Hash(&db)
	h.Sweep()
	h.Hash(&web)
	h.Sweep()
	if _, ok := h.byName["db"]; ok || len(h.byName) != 1 {
		t.Errorf("remembered %v, want web only", slices.Collect(maps.Keys(h.byName)))
	}
	var none *SpecHashes
	if got := none.Hash(&web); got != web.Spec.Hash() {
		t.Errorf("nil SpecHashes: %s, want %s", got, web.Spec.Hash())
	}
}

// TestSpecHashesHoldNoCopy: the memory holds the spec last given for a
// name, not a copy of it nor an earlier container: an earlier container
// of the same spec is not kept alive by it.
func TestSpecHashesHoldNoCopy(t *testing.T) {
	var h SpecHashes
	first, next := ctr("web", img2022, ""), ctr("web", img2022, "")
	h.Hash(&first)
	h.Sweep()
	h.Hash(&next)
	if got := h.byName["web"].spec; got != &next.Spec {
		t.Errorf("remembered spec at %p, want the last one given, at %p (first at %p)", got, &next.Spec, &first.Spec)
	}
	if h.computed != 1 {
		t.Errorf("hashed %d times, want once", h.computed)
	}
}
