package test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
)

// dbManifest is a database with a fast health check; appManifest an app
// that needs it healthy.
const (
	dbManifest = `apiVersion: reconciler/v1
kind: Container
metadata: {name: db}
spec:
  image: 'mcr.microsoft.com/windows/servercore:ltsc2022'
  healthcheck: {exec: [cmd, /c, "exit 0"], interval: 50ms, timeout: 5s, retries: 2, startPeriod: 0s}
`
	appManifest = `apiVersion: reconciler/v1
kind: Container
metadata: {name: app}
spec:
  image: 'mcr.microsoft.com/windows/servercore:ltsc2022'
  dependsOn: [{name: db, condition: healthy}]
`
)

// runLogged runs the binary with JSON logs and returns its stdout and log
// lines, and its error.
func (e *env) runLogged(args ...string) (string, []map[string]any, error) {
	cmd := exec.Command(binary, append([]string{"--sim-state", e.state, "--log-format", "json"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var lines []map[string]any
	for _, l := range strings.Split(errb.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m)
		}
	}
	return out.String(), lines, err
}

// find returns the first log line with this msg and, if name is not "",
// this name and action.
func find(t *testing.T, lines []map[string]any, msg, action, name string) map[string]any {
	t.Helper()
	for _, l := range lines {
		if l["msg"] == msg && (name == "" || l["name"] == name && (action == "" || l["action"] == action)) {
			return l
		}
	}
	t.Fatalf("no log line %q %s %s in %v", msg, action, name, lines)
	return nil
}

func logTime(t *testing.T, line map[string]any) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, line["ts"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestDependsOnEndToEnd: the app is created only once the database is
// healthy; an unhealthy database leaves the app for the next run, saying
// why; removals go in reverse (the app before the database).
func TestDependsOnEndToEnd(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "db.yaml"), dbManifest)
	write(t, filepath.Join(dir, "app.yaml"), appManifest)
	// Creates and removes take a while, so that an order not kept shows.
	if _, err := e.run("sim", "fault", "--latency", "150ms"); err != nil {
		t.Fatal(err)
	}

	// One pass: db created, found healthy, then app created.
	_, lines, err := e.runLogged("reconcile", dir)
	if err != nil {
		t.Fatal(err)
	}
	dbDone := find(t, lines, "action done", "create", "db")
	waited := find(t, lines, "waiting for a dependency to be healthy", "", "db")
	appDone := find(t, lines, "action done", "create", "app")
	if appStart := logStart(t, appDone); appStart.Before(logTime(t, dbDone)) || appStart.Before(logTime(t, waited)) {
		t.Errorf("app's create started at %v, before db was created (%v) and checked (%v)", appStart, dbDone["ts"], waited["ts"])
	}

	// Removal in reverse: app's removal is over before db's starts.
	for _, f := range []string{"db.yaml", "app.yaml"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "other.yaml"), testfixture.Manifest("other", ltsc2022, "process"))
	_, lines, err = e.runLogged("reconcile", "--allow-mass-removal", dir)
	if err != nil {
		t.Fatal(err)
	}
	appGone := find(t, lines, "action done", "remove", "app")
	dbGone := find(t, lines, "action done", "remove", "db")
	if logStart(t, dbGone).Before(logTime(t, appGone)) {
		t.Errorf("db's removal started at %v, before app's was over (%v)", logStart(t, dbGone), appGone["ts"])
	}

	// An unhealthy database: the app is not created, and the plan says why.
	if _, err := e.run("sim", "health", "db", "fail"); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "db.yaml"), dbManifest)
	write(t, filepath.Join(dir, "app.yaml"), appManifest)
	out, err := e.run("reconcile", dir)
	if err == nil {
		t.Error("reconcile exited 0 with the app not created")
	}
	out, _, _ = e.runLogged("reconcile", dir) // the next run tries again
	if !regexp.MustCompile(`waits for db: .*not healthy: 2 checks failed in a row`).MatchString(out) {
		t.Errorf("the plan does not say why app waits:\n%s", out)
	}
	if _, ok := e.systems()["app"]; ok {
		t.Fatal("app created while db is unhealthy")
	}
	// Healthy again: the next run creates the app.
	if _, err := e.run("sim", "health", "db", "ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run("reconcile", dir); err != nil {
		t.Fatal(err)
	}
	if s := e.systems()["app"]; s.State != driver.StateRunning {
		t.Errorf("app %s once db is healthy, want running", s.State)
	}
}

// TestHealthShownByStatus: status (one check) and the agent's GET /status
// (kept over time) show health and the last failure; the agent logs the
// turn to unhealthy.
func TestHealthShownByStatus(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "db.yaml"), dbManifest)
	write(t, filepath.Join(dir, "plain.yaml"), testfixture.Manifest("plain", ltsc2022, "process"))
	if _, err := e.run("reconcile", dir); err != nil {
		t.Fatal(err)
	}
	out, err := e.run("status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "running (healthy)") || strings.Count(out, "(healthy)") != 1 {
		t.Errorf("status:\n%s\nwant db running (healthy), plain without health", out)
	}

	a := e.start("--dir", dir, "--listen", "127.0.0.1:0")
	addr, _ := a.waitLog("listening")["address"].(string)
	healthOf := func() map[string]map[string]any {
		resp, err := http.Get("http://" + addr + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct {
			Health []map[string]any `json:"health"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, h := range s.Health {
			out[h["name"].(string)] = h
		}
		return out
	}
	if !testfixture.Eventually(t, func() bool { return healthOf()["db"]["health"] == "healthy" }) {
		t.Fatalf("GET /status health %v, want db healthy", healthOf())
	}
	if _, ok := healthOf()["plain"]; ok {
		t.Error("GET /status shows the health of plain, which declares no healthcheck")
	}

	if _, err := e.run("sim", "health", "db", "fail"); err != nil {
		t.Fatal(err)
	}
	turned := a.waitLog("container unhealthy")
	if turned["name"] != "db" || !strings.Contains(turned["lastFailure"].(string), "sim health db fail") {
		t.Errorf("logged %v", turned)
	}
	if !testfixture.Eventually(t, func() bool { return healthOf()["db"]["health"] == "unhealthy" }) {
		t.Fatalf("GET /status health %v, want db unhealthy", healthOf())
	}
	out, err = e.run("status", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Containers []map[string]any `json:"containers"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	for _, c := range report.Containers {
		if c["name"] == "db" && (c["health"] != "unhealthy" || !strings.Contains(c["lastHealthFailure"].(string), "sim health db fail")) {
			t.Errorf("status -o json: db %v", c)
		}
	}
	out, err = e.run("status", "db")
	if err != nil || !strings.Contains(out, "running (unhealthy)") || !strings.Contains(out, "checked:   failed:") {
		t.Errorf("status db: %v\n%s", err, out)
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(a.stderr.logLines("container unhealthy")); n != 1 {
		t.Errorf("the turn to unhealthy logged %d times, want once", n)
	}
}
