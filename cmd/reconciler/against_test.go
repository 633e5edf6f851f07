package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testfixture"
)

func TestReconcileAgainstASnapshot(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "web1", "host.json") // host web1's emulated host
	here := filepath.Join(dir, "ci", "host.json")   // the CI runner's: must stay untouched
	if _, err := runSim(t, host, "reconcile", "../../examples/manifests"); err != nil {
		t.Fatal(err)
	}
	snapshot, err := runSim(t, host, "-o", "json", "status")
	if err != nil {
		t.Fatal(err)
	}
	snapshotFile := filepath.Join(dir, "web1.json")
	if err := os.WriteFile(snapshotFile, []byte(snapshot), 0o644); err != nil {
		t.Fatal(err)
	}

	// The change under review: one manifest changes isolation, one is new.
	changed := filepath.Join(dir, "manifests")
	if err := os.CopyFS(changed, os.DirFS("../../examples/manifests")); err != nil {
		t.Fatal(err)
	}
	iis, err := os.ReadFile(filepath.Join(changed, "iis-site.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(changed, "iis-site.yaml"), []byte(strings.Replace(string(iis), "isolation: process", "isolation: hyperv", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(changed, "web.yaml"), []byte(testfixture.Manifest("web", "mcr.microsoft.com/windows/nanoserver:ltsc2022", "process")), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := runSim(t, here, "reconcile", "--dry-run", "--detailed-exitcode", "--against", snapshotFile, changed)
	var exit *exitErrorText
	if !asExit(err, &exit, 2) {
		t.Fatalf("reconcile --against = %v, want exit 2 (changes pending)", err)
	}
	for _, want := range []string{"host: Windows Server 2022 (10.0.20348.1)", "~ iis-site  recreate  hyperv   isolation process → hyperv", "+ web       create", "Plan: 1 to create, 1 to recreate, 0 to remove, 3 unchanged"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan does not say %q:\n%s", want, plan)
		}
	}
	if _, err := os.Stat(here); !os.IsNotExist(err) {
		t.Errorf("--against touched this machine's emulated host: %v", err)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{args: []string{"reconcile", "--against", snapshotFile, changed}, want: "add --dry-run"},
		{args: []string{"reconcile", "--dry-run", "--against", filepath.Join(dir, "missing.json"), changed}, want: "missing.json"},
		{args: []string{"reconcile", "--dry-run", "--against", filepath.Join(changed, "web.yaml"), changed}, want: "not the JSON of `reconciler status -o json`"},
	} {
		if _, err := runSim(t, here, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v = %v, want an error saying %q", tt.args, err, tt.want)
		}
	}
	plansJSON := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(plansJSON, []byte(`{"dryRun": true, "host": {"build": 20348}, "actions": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runSim(t, here, "reconcile", "--dry-run", "--against", plansJSON, changed); err == nil || !strings.Contains(err.Error(), `needs "host" with its build and "containers"`) {
		t.Errorf("a plan as --against = %v, want a refusal", err)
	}
}

// runSim runs the command line against the emulated host whose state is
// state and returns its stdout; an error carries its stderr.
func runSim(t *testing.T, state string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"--driver", "sim", "--sim-state", state}, args...), &stdout, &stderr)
	if err != nil {
		err = &exitErrorText{err, stderr.String()}
	}
	return stdout.String(), err
}

// exitErrorText is run's error with what the command wrote to stderr.
type exitErrorText struct {
	err    error
	stderr string
}

func (e *exitErrorText) Error() string { return e.err.Error() + "\n" + e.stderr }
func (e *exitErrorText) Unwrap() error { return e.err }

// asExit reports whether err carries exit code code.
func asExit(err error, target **exitErrorText, code int) bool {
	var ee *exitError
	return errors.As(err, target) && errors.As(err, &ee) && ee.code == code
}
