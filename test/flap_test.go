package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
)

// crashyManifest is a container that the test kills each time it runs: an
// app that exits at once.
const crashyManifest = `apiVersion: reconciler/v1
kind: Container
metadata: {name: crashy}
spec:
  image: 'mcr.microsoft.com/windows/servercore:ltsc2022'
  restartLimit: {maxRestarts: 3, window: 1h}
`

// restarts sums the recreates of the agent's passes.
func (a *agent) restarts() int {
	n := 0
	for _, p := range a.stderr.logLines("pass done") {
		n += int(p["recreated"].(float64))
	}
	return n
}

// TestWatchLeavesAFlappingContainerStopped: a container that exits each
// time it starts is restarted maxRestarts times, then left stopped and
// reported (log at warn, status); a restart of the agent does not reset
// the count.
func TestWatchLeavesAFlappingContainerStopped(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "crashy.yaml"), crashyManifest)
	a := e.start("--dir", dir, "--resync", "100ms")
	running := func(m map[string]driver.System) bool { return m["crashy"].State == driver.StateRunning }
	for range 4 { // the first start and 3 restarts, each killed
		e.eventually("crashy runs", running)
		if _, err := e.run("sim", "kill", "crashy"); err != nil {
			t.Fatal(err)
		}
	}
	limit := a.waitLog("restart limit reached: the container is left stopped until its spec changes or the window has passed")
	if limit["name"] != "crashy" || limit["limit"] != "restart limit: 3 in 1h" || limit["level"] != "warn" {
		t.Errorf("limit logged as %v", limit)
	}
	a.waitPassAfter("the limit", func(m map[string]any) bool { return m["msg"] == limit["msg"] })
	if got := a.restarts(); got != 3 {
		t.Errorf("%d restarts, want 3", got)
	}
	if s := e.systems()["crashy"]; s.State != driver.StateStopped {
		t.Errorf("crashy %s after the limit, want stopped", s.State)
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}

	// A new agent continues the count: crashy stays stopped.
	b := e.start("--dir", dir, "--resync", "100ms")
	b.waitOutput("two passes", func(string) bool { return len(b.stderr.logLines("pass done")) >= 2 })
	if got := b.restarts(); got != 0 || e.systems()["crashy"].State != driver.StateStopped {
		t.Errorf("the restarted agent restarted crashy %d times (state %s), want 0", got, e.systems()["crashy"].State)
	}
	out, err := e.run("status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "stopped (restart limit: 3 in 1h)") {
		t.Errorf("status does not say why crashy is stopped:\n%s", out)
	}

	// A fix (a new spec) starts a new count: crashy runs again.
	write(t, filepath.Join(dir, "crashy.yaml"), strings.Replace(crashyManifest, "spec:\n", "spec:\n  command: [app.exe, --fixed]\n", 1))
	e.eventually("the fixed crashy runs", running)
}
