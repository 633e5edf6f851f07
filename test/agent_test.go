package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/internal/testfixture"
)

// agent is a running `reconciler watch` process.
type agent struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLines returns the JSON log lines whose msg is msg.
func (b *syncBuffer) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, m := range b.jsonLines() {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// jsonLines returns every JSON log line, in order.
func (b *syncBuffer) jsonLines() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// env is one end-to-end environment: an emulated host state file.
type env struct {
	t     testing.TB
	state string
}

func newEnv(t testing.TB) *env {
	return &env{t: t, state: filepath.Join(t.TempDir(), "host", "state.json")}
}

// run runs the binary to completion and returns its stdout.
func (e *env) run(args ...string) (string, error) {
	cmd := exec.Command(binary, append([]string{"--sim-state", e.state}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%v: %w\n%s", args, err, errb.String())
	}
	return out.String(), err
}

// start starts `reconciler watch` with args.
func (e *env) start(args ...string) *agent {
	e.t.Helper()
	a := &agent{t: e.t, stderr: &syncBuffer{}, done: make(chan error, 1)}
	a.cmd = exec.Command(binary, append([]string{"--sim-state", e.state, "--log-format", "json", "watch"}, args...)...)
	a.cmd.Stderr = a.stderr
	ownProcessGroup(a.cmd)
	if err := a.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	e.t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		<-a.done
		if e.t.Failed() {
			e.t.Logf("agent log:\n%s", a.stderr.String())
		}
	})
	return a
}

// waitLog waits until the agent has logged a line whose msg is msg and
// returns the first such line.
func (a *agent) waitLog(msg string) map[string]any {
	a.t.Helper()
	var first map[string]any
	a.waitOutput(fmt.Sprintf("%q", msg), func(string) bool {
		if lines := a.stderr.logLines(msg); len(lines) > 0 {
			first = lines[0]
		}
		return first != nil
	})
	return first
}

// waitOutput waits until cond holds over what the agent has written to
// stderr; what names it in the failure.
func (a *agent) waitOutput(what string, cond func(stderr string) bool) {
	a.t.Helper()
	if !testfixture.Eventually(a.t, func() bool { return cond(a.stderr.String()) }) {
		a.t.Fatalf("the agent never logged %s", what)
	}
}

// logStart is when the pass or action a log line ends began: its ts (ISO
// 8601) less its duration (seconds).
func logStart(t testing.TB, line map[string]any) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(line["ts"]))
	took, ok := line["duration"].(float64)
	if err != nil || !ok {
		t.Fatalf("log line without an ISO 8601 ts and a duration in seconds: %v", line)
	}
	return ts.Add(-time.Duration(took * float64(time.Second)))
}

// waitPassAfter waits until a pass is done after a log line that after
// matches: the pass that saw what that line reports has ended.
func (a *agent) waitPassAfter(what string, after func(line map[string]any) bool) {
	a.t.Helper()
	a.waitOutput("a pass done after "+what, func(string) bool {
		seen := false
		for _, m := range a.stderr.jsonLines() {
			seen = seen || after(m)
			if seen && m["msg"] == "pass done" {
				return true
			}
		}
		return false
	})
}

// stop asks the agent to stop (SIGTERM; Ctrl+Break on Windows) and waits
// for the exit.
func (a *agent) stop() error {
	a.t.Helper()
	if err := interrupt(a.cmd.Process); err != nil {
		a.t.Fatal(err)
	}
	select {
	case err := <-a.done:
		a.done <- err // for the cleanup
		return err
	case <-testfixture.Within(a.t):
		a.t.Fatal("the agent did not stop when asked")
		return nil
	}
}

// systems lists the emulated host's compute systems by name.
func (e *env) systems() map[string]driver.System {
	e.t.Helper()
	h, err := sim.Open(e.state, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	list, err := h.List(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	out := make(map[string]driver.System, len(list))
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

// eventually waits until cond holds over the host's systems.
func (e *env) eventually(what string, cond func(map[string]driver.System) bool) {
	e.t.Helper()
	if !testfixture.Eventually(e.t, func() bool { return cond(e.systems()) }) {
		e.t.Fatalf("gave up waiting until %s; host has %v", what, keys(e.systems()))
	}
}

func keys(m map[string]driver.System) []string {
	var out []string
	for k, s := range m {
		out = append(out, fmt.Sprintf("%s(%s,%s)", k, s.Isolation, s.State))
	}
	return out
}

const ltsc2022 = testfixture.ServerCore2022

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWatchFolderLifecycle(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	// Four anchors, so that the two removals below stay within the
	// removal limit (half of the owned containers per window).
	for _, n := range []string{"anchor1", "anchor2", "anchor3", "anchor4"} {
		write(t, filepath.Join(dir, n+".yaml"), testfixture.Manifest(n, ltsc2022, "process"))
	}
	a := e.start("--dir", dir)
	e.eventually("the anchors run", func(m map[string]driver.System) bool { return len(m) == 4 })

	// Drop a file: created.
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process"))
	e.eventually("web is created", func(m map[string]driver.System) bool { return m["web"].State == driver.StateRunning })

	// Change its isolation with an editor-style save (write a temp file, rename over).
	write(t, filepath.Join(dir, ".web.yaml.tmp"), testfixture.Manifest("web", ltsc2022, "hyperv"))
	if err := os.Rename(filepath.Join(dir, ".web.yaml.tmp"), filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	e.eventually("web is recreated with hyperv", func(m map[string]driver.System) bool { return m["web"].Isolation == "hyperv" })
	// The host shows the new system a moment before the agent logs it.
	a.waitOutput("the recreate's reason", func(log string) bool { return strings.Contains(log, "isolation process → hyperv") })

	// Break it: nothing is removed, the error is reported with file:line.
	write(t, filepath.Join(dir, "web.yaml"), "apiVersion: reconciler/v1\nkind: Container\nmetadata:\n  name: web\nspec:\n  image: "+ltsc2022+"\n  isolation: hyper-v\n")
	rm := filepath.Join(dir, "anchor2.yaml")
	if err := os.Remove(rm); err != nil {
		t.Fatal(err)
	}
	errLine := a.waitLog("desired set error: kept as it was until fixed")
	if errLine["source"] != "web.yaml" || errLine["line"] != float64(7) {
		t.Errorf("error reported at %v:%v, want web.yaml:7", errLine["source"], errLine["line"])
	}
	a.waitPassAfter("anchor2's removal was held", func(m map[string]any) bool {
		names, _ := m["names"].([]any)
		return m["msg"] == "removals held" && slices.Contains(names, any("anchor2"))
	})
	if m := e.systems(); len(m) != 5 || m["web"].Isolation != "hyperv" {
		t.Errorf("a broken file changed the host: %v", keys(m))
	}

	// Fix it: applied, and the held removal goes through.
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process"))
	e.eventually("web is process-isolated and anchor2 removed", func(m map[string]driver.System) bool {
		_, anchor := m["anchor2"]
		return m["web"].Isolation == "process" && !anchor
	})

	// Delete it: removed.
	if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	e.eventually("web is removed", func(m map[string]driver.System) bool { _, ok := m["web"]; return !ok })
	if err := a.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want 0", err)
	}
}

func TestWatchManyFilesAtOnceTakeFewPasses(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	a := e.start("--dir", dir)
	a.waitLog("pass done")
	stage := t.TempDir()
	for i := range 200 {
		write(t, filepath.Join(stage, fmt.Sprintf("app-%03d.yaml", i)), testfixture.Manifest(fmt.Sprintf("app-%03d", i), ltsc2022, "process"))
	}
	// Drop the 200 files at once: move a whole folder in.
	if err := os.Rename(stage, filepath.Join(dir, "batch")); err != nil {
		t.Fatal(err)
	}
	e.eventually("all 200 run", func(m map[string]driver.System) bool { return len(m) == 200 })
	passes := 0
	for _, p := range a.stderr.logLines("pass done") {
		if p["created"].(float64) > 0 {
			passes++
		}
	}
	if passes > 3 {
		t.Errorf("200 files took %d creating passes, want a few", passes)
	}
}

func TestWatchRestoresAKilledContainerWithinOneResync(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process"))
	a := e.start("--dir", dir, "--resync", "300ms")
	e.eventually("web runs", func(m map[string]driver.System) bool { return m["web"].State == driver.StateRunning })
	// Counted in passes, not seconds. Once a pass found web as it should
	// be, the agent waits for the resync. The kill has landed once `sim
	// kill` returns; the first pass to start after that restores web (or
	// the second, if the first read the host a moment before its start
	// was logged). One that restores it earlier is fine too.
	a.waitOutput("a pass with nothing to do", func(string) bool {
		return slices.ContainsFunc(a.stderr.logLines("pass done"), func(p map[string]any) bool { return p["unchanged"] == 1.0 })
	})
	if _, err := e.run("sim", "kill", "web"); err != nil {
		t.Fatal(err)
	}
	landed := time.Now()

	var started []map[string]any // the passes that started after the kill landed, up to the restoring one
	a.waitOutput("the pass that restores web", func(string) bool {
		started = started[:0]
		for _, p := range a.stderr.logLines("pass done") {
			if logStart(t, p).After(landed) {
				started = append(started, p)
			}
			if p["recreated"].(float64) > 0 {
				return true
			}
		}
		return false
	})
	if n := len(started); n > 2 {
		t.Errorf("web restored by the %d. pass to start after the kill landed, want the first or second", n)
	}
	e.eventually("web runs again", func(m map[string]driver.System) bool { return m["web"].State == driver.StateRunning })
}

func TestWatchStopsCleanlyMidApplyAndTheNextStartConverges(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	for i := range 8 {
		write(t, filepath.Join(dir, fmt.Sprintf("app%d.yaml", i)), testfixture.Manifest(fmt.Sprintf("app%d", i), ltsc2022, "process"))
	}
	if _, err := e.run("sim", "fault", "--latency", "400ms"); err != nil {
		t.Fatal(err)
	}
	a := e.start("--dir", dir, "--parallel", "2")
	e.eventually("something is created", func(m map[string]driver.System) bool { return len(m) > 0 })
	if err := a.stop(); err != nil {
		t.Fatalf("exit after SIGTERM mid-apply: %v, want 0", err)
	}
	n := len(e.systems())
	if n == 0 || n == 8 {
		t.Fatalf("%d systems after a stop mid-apply; the test wants a partial pass", n)
	}
	if !strings.Contains(a.stderr.String(), "stopping") {
		t.Errorf("no log line says the agent is stopping")
	}
	if _, err := e.run("sim", "fault", "--clear"); err != nil {
		t.Fatal(err)
	}
	e.start("--dir", dir)
	e.eventually("the next start converges", func(m map[string]driver.System) bool { return len(m) == 8 })
}

func TestWatchSecondAgentIsRefused(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	a := e.start("--dir", dir)
	a.waitLog("pass done")
	_, err := e.run("watch", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "another reconciler already manages") {
		t.Errorf("second agent: %v, want a clear refusal", err)
	}
	// Another owner may run its own agent on the same host.
	b := e.start("--owner", "other", "--dir", t.TempDir())
	b.waitLog("pass done")
	select {
	case err := <-b.done:
		t.Errorf("an agent of another owner exited: %v", err)
		b.done <- err // for the cleanup
	default:
	}
}
