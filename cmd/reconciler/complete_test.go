package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletion(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	run1 := func(args ...string) string {
		t.Helper()
		out, err := runSim(t, state, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	run1("reconcile", "../../examples/manifests")
	run1("sim", "create", "iis-old", "--image", "mcr.microsoft.com/windows/nanoserver:ltsc2022", "--owner", "docker")
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"__complete", "ps", ""}, want: "iis-site\tprocess, running\nlegacy-app\thyperv, running\norders-api\tprocess, running\norders-logs\tprocess, running\niis-old\towner docker\n:4\n"},
		{args: []string{"__complete", "ps", "iis"}, want: "iis-site\tprocess, running\niis-old\towner docker\n:4\n"},
		{args: []string{"__complete", "ps", "web", ""}, want: ":4\n"}, // one NAME only
		{args: []string{"--sim-state", filepath.Join(t.TempDir(), "none", "..", "x", "host.json"), "__complete", "ps", "zz"}, want: ":4\n"},
		{args: []string{"__complete", "validate", ""}, want: "yaml\nyml\n:8\n"},
		{args: []string{"__complete", "reconcile", "--dry-run", "examples/"}, want: "yaml\nyml\n:8\n"},
		{args: []string{"__complete", "watch", "--dir", ""}, want: ":16\n"},
	}
	for _, tt := range tests {
		got := run1(tt.args...)
		if got, _, _ = strings.Cut(got, "Completion ended"); got != tt.want {
			t.Errorf("%q:\n%s\nwant:\n%s", tt.args, got, tt.want)
		}
	}
}
