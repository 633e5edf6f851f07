package test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// updateManifest is the container web of image with the update strategy.
func updateManifest(image, strategy string) string {
	return fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: web
spec:
  image: %s
  isolation: process
  update: {strategy: %s}
`, image, strategy)
}

// runningOf counts the running containers named name in the output of
// `status -o json`.
func runningOf(t *testing.T, statusJSON, name string) int {
	t.Helper()
	var r struct {
		Containers []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"containers"`
	}
	if err := json.Unmarshal([]byte(statusJSON), &r); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, statusJSON)
	}
	n := 0
	for _, c := range r.Containers {
		if c.Name == name && c.State == "running" {
			n++
		}
	}
	return n
}

// TestUpdateDowntimePerStrategy: with 500 ms of create (and remove)
// latency, polling `status -o json` every 20 ms while an image update runs
// never finds web without a running container under startFirst, and does
// under recreate, whose downtime the run reports in its log.
func TestUpdateDowntimePerStrategy(t *testing.T) {
	const newImage = "mcr.microsoft.com/windows/nanoserver:ltsc2022"
	for _, tc := range []struct {
		strategy string
		wantGap  bool
	}{{"startFirst", false}, {"recreate", true}} {
		t.Run(tc.strategy, func(t *testing.T) {
			e := newEnv(t)
			dir := t.TempDir()
			manifest := filepath.Join(dir, "web.yaml")
			write(t, manifest, updateManifest(ltsc2022, tc.strategy))
			if _, err := e.run("reconcile", dir); err != nil {
				t.Fatal(err)
			}
			if _, err := e.run("sim", "fault", "--latency", "500ms"); err != nil {
				t.Fatal(err)
			}
			write(t, manifest, updateManifest(newImage, tc.strategy))

			update := exec.Command(binary, "--sim-state", e.state, "--log-format", "json", "reconcile", dir)
			stderr := &syncBuffer{}
			update.Stderr = stderr
			if err := update.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- update.Wait() }()

			polls, gaps := 0, 0
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
		poll:
			for {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("reconcile: %v\n%s", err, stderr)
					}
					break poll
				case <-testfixture.Within(t):
					t.Fatal("the update did not finish")
				case <-tick.C:
					out, err := e.run("-o", "json", "status")
					if err != nil {
						t.Fatal(err)
					}
					polls++
					if runningOf(t, out, "web") == 0 {
						gaps++
					}
				}
			}
			if polls == 0 {
				t.Fatal("status was never polled during the update")
			}
			if got := (gaps > 0); got != tc.wantGap {
				t.Errorf("%s: %d of %d polls found no running web, want gaps %t", tc.strategy, gaps, polls, tc.wantGap)
			}
			done2 := stderr.logLines("action done")
			if len(done2) != 1 {
				t.Fatalf("want one action done line, got %v\n%s", done2, stderr)
			}
			downtime, ok := done2[0]["downtime"].(float64)
			switch {
			case !ok:
				t.Errorf("no downtime in %v", done2[0])
			case tc.wantGap && downtime < 0.5:
				t.Errorf("recreate downtime %gs, want at least the 500 ms create latency", downtime)
			case !tc.wantGap && downtime != 0:
				t.Errorf("startFirst downtime %gs, want 0", downtime)
			}
			if s := e.systems()["web"]; s.Image != newImage || s.State != "running" {
				t.Errorf("web is %s %s, want %s running", s.Image, s.State, newImage)
			}
		})
	}
}
