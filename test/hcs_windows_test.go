//go:build windows

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// hcsHowTo says how to run TestHCSLifecycle.
const hcsHowTo = `run it elevated (as Administrator) on Windows Server 2022 (or later) with the Containers ` +
	`feature (and Hyper-V for the isolation change): set RECONCILER_HCS_TEST_IMAGE to an image ` +
	`matching the host build, e.g. mcr.microsoft.com/windows/nanoserver:ltsc2022, then ` +
	`go test ./test/ -run TestHCSLifecycle -v`

// hcsPlan is the part of the JSON plan (DESIGN §6) the test reads.
type hcsPlan struct {
	Actions []struct {
		Action    string `json:"action"`
		Name      string `json:"name"`
		Isolation string `json:"isolation"`
		Status    string `json:"status"`
		Error     string `json:"error"`
	} `json:"actions"`
}

// hcsStatus is the part of `status -o json` the test reads.
type hcsStatus struct {
	Host struct {
		HyperV bool `json:"hyperv"`
	} `json:"host"`
	Containers []struct {
		Name      string `json:"name"`
		Owner     string `json:"owner"`
		Managed   bool   `json:"managed"`
		Isolation string `json:"isolation"`
		State     string `json:"state"`
	} `json:"containers"`
}

// TestHCSLifecycle runs the built binary against the real HCS: create a
// process-isolated container, observe it, change its isolation to hyperv
// (a recreate), observe again, remove it.
func TestHCSLifecycle(t *testing.T) {
	image := os.Getenv("RECONCILER_HCS_TEST_IMAGE")
	switch {
	case !windows.GetCurrentProcessToken().IsElevated():
		t.Skip("not elevated; " + hcsHowTo)
	case windows.NewLazySystemDLL("vmcompute.dll").Load() != nil:
		t.Skip("no Host Compute Service (vmcompute.dll); " + hcsHowTo)
	case image == "":
		t.Skip("RECONCILER_HCS_TEST_IMAGE is not set; " + hcsHowTo)
	}
	dataDir := os.Getenv("RECONCILER_HCS_TEST_DATA")
	if dataDir == "" {
		dataDir = filepath.Join(os.TempDir(), "reconciler-hcs-test")
	}
	owner := fmt.Sprintf("reconciler-e2e-%d", time.Now().UnixNano())
	manifests := t.TempDir()
	run := func(t *testing.T, v any, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		all := append([]string{"--driver", "hcs", "--owner", owner, "--data-dir", dataDir, "-o", "json"}, args...)
		cmd := exec.CommandContext(ctx, binary, all...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("reconciler %v: %v\n%s", args, err, stderr.String())
		}
		if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
			t.Fatalf("reconciler %v: output is not JSON (%v)\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
		}
		if exit != nil {
			t.Fatalf("reconciler %v exited %d\nstdout: %s\nstderr: %s", args, exit.ExitCode(), stdout.String(), stderr.String())
		}
	}
	writeManifest := func(t *testing.T, isolation string) {
		t.Helper()
		y := fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: e2e-web
spec:
  image: %s
  isolation: %s
  command: [ping, localhost, -t]
`, image, isolation)
		if err := os.WriteFile(filepath.Join(manifests, "web.yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reconcileExpect := func(t *testing.T, action, isolation string) {
		t.Helper()
		var plan hcsPlan
		run(t, &plan, "reconcile", "--allow-mass-removal", manifests)
		if len(plan.Actions) != 1 {
			t.Fatalf("plan has %d actions, want one %s: %+v", len(plan.Actions), action, plan.Actions)
		}
		a := plan.Actions[0]
		if a.Action != action || a.Name != "e2e-web" || a.Status != "done" || (isolation != "" && a.Isolation != isolation) {
			t.Fatalf("action %+v, want %s of e2e-web (%s) done", a, action, isolation)
		}
	}
	observe := func(t *testing.T) (hcsStatus, string, string) {
		t.Helper()
		var st hcsStatus
		run(t, &st, "status")
		for _, c := range st.Containers {
			if c.Name == "e2e-web" && c.Owner == owner {
				if !c.Managed {
					t.Errorf("e2e-web of owner %s is not reported as managed", owner)
				}
				return st, c.Isolation, c.State
			}
		}
		return st, "", ""
	}
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(manifests, "web.yaml"))
		var plan hcsPlan
		run(t, &plan, "reconcile", "--allow-mass-removal", manifests)
	})

	writeManifest(t, "process")
	reconcileExpect(t, "create", "process")
	st, iso, state := observe(t)
	if iso != "process" || state != "running" {
		t.Fatalf("after create: isolation %q state %q, want process running", iso, state)
	}

	if !st.Host.HyperV {
		t.Log("the host has no Hyper-V: skipping the isolation change")
	} else {
		writeManifest(t, "hyperv")
		reconcileExpect(t, "recreate", "hyperv")
		if _, iso, state := observe(t); iso != "hyperv" || state != "running" {
			t.Fatalf("after recreate: isolation %q state %q, want hyperv running", iso, state)
		}
	}

	if err := os.Remove(filepath.Join(manifests, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	reconcileExpect(t, "remove", "")
	if _, iso, _ := observe(t); iso != "" {
		t.Fatalf("after remove: e2e-web is still listed (%s)", iso)
	}
}
