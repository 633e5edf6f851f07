package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's fleet example is what validate --fleet prints for
// examples/fleet: three hosts, every container placed, no error.
func TestFleetExampleMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "$ reconciler validate --fleet examples/fleet/fleet.yaml examples/fleet/shared 'examples/fleet/hosts/{hostname}'\n"
	_, block, ok := strings.Cut(string(readme), cmd)
	if !ok {
		t.Fatalf("README has no %q", cmd)
	}
	want, _, _ := strings.Cut(block, "```")
	got, err := runSim(t, filepath.Join(t.TempDir(), "host.json"), "validate", "--fleet", "../../examples/fleet/fleet.yaml",
		"../../examples/fleet/shared", "../../examples/fleet/hosts/{hostname}")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("validate --fleet examples/fleet prints\n%s\nthe README shows\n%s", got, want)
	}
}
