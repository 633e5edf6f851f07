package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/internal/winsvc"
)

// events is a tracker whose events arrive on a channel.
func events() (*winsvc.Tracker, chan winsvc.Event) {
	ch := make(chan winsvc.Event, 64)
	return winsvc.NewTracker(func(e winsvc.Event) { ch <- e }), ch
}

// waitEvents waits for an event of each of ids, in any order, and
// returns them (the last of each id); it fails if the agent ends first
// (the test waits on the observable, not on a clock).
func waitEvents(t *testing.T, ch chan winsvc.Event, done chan error, ids ...uint32) map[uint32]winsvc.Event {
	t.Helper()
	got := map[uint32]winsvc.Event{}
	for len(got) < len(ids) {
		select {
		case e := <-ch:
			t.Logf("event %d: %s", e.ID, e.Message)
			if slices.Contains(ids, e.ID) {
				got[e.ID] = e
			}
		case err := <-done:
			t.Fatalf("the agent ended (%v) before events %v; got %v", err, ids, got)
		}
	}
	return got
}

// requireJSONLines checks that every line of logs is a JSON log line.
func requireJSONLines(t *testing.T, logs string) {
	t.Helper()
	for line := range strings.Lines(strings.TrimSpace(logs)) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil || entry["msg"] == nil {
			t.Errorf("a line of the service's log is not a JSON log line: %q", line)
		}
	}
}

// TestServiceMode runs the agent as the service runs it (runServiceCommand,
// which winsvc.Run calls on Windows) on the emulated host, through a life
// of trouble and recovery: its log is JSON lines whatever --log-format
// says; its start, a failed create and its recovery, a folder that
// vanishes and comes back, removals held and released are each one event; and
// cancelling its context (what a service stop does) ends it cleanly.
func TestServiceMode(t *testing.T) {
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	copyManifests(t, manifests)
	state := filepath.Join(dir, "host.json")
	setFaults(t, state, sim.Faults{FailNames: []string{"iis-site"}})
	cfg := filepath.Join(dir, "reconciler.yaml")
	// Short resync and rescan: the test waits for passes, not for time.
	if err := os.WriteFile(cfg, []byte("dir: ['"+manifests+"']\ndriver: sim\nsim-state: '"+state+"'\nlog-format: console\nresync: 50ms\nrescan: 50ms\nmax-removals: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tracker, ch := events()
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runServiceCommand(ctx, []string{"watch", "--config", cfg}, io.Discard, &console{w: logs}, tracker)
	}()

	got := waitEvents(t, ch, done, winsvc.EventStarted, winsvc.EventActionsFailed)
	if e := got[winsvc.EventStarted]; !strings.Contains(e.Message, "driver=sim") || e.Level != winsvc.Info {
		t.Errorf("start event %+v", e)
	}
	if e := got[winsvc.EventActionsFailed]; !strings.Contains(e.Message, "create iis-site: ") || e.Level != winsvc.Error {
		t.Errorf("failed-actions event %+v", e)
	}
	setFaults(t, state, sim.Faults{})
	waitEvents(t, ch, done, winsvc.EventActionsRecovered)

	if err := os.RemoveAll(manifests); err != nil {
		t.Fatal(err)
	}
	if e := waitEvents(t, ch, done, winsvc.EventSourceFailing)[winsvc.EventSourceFailing]; !strings.Contains(e.Message, "source dir "+manifests) {
		t.Errorf("source event %+v", e)
	}
	copyManifests(t, manifests)
	waitEvents(t, ch, done, winsvc.EventSourceRecovered)

	// Two containers undeclared (their folder moved out): more than
	// max-removals, held.
	web, away := filepath.Join(manifests, "web"), filepath.Join(dir, "web")
	if err := os.Rename(web, away); err != nil {
		t.Fatal(err)
	}
	if e := waitEvents(t, ch, done, winsvc.EventRemovalsHeld)[winsvc.EventRemovalsHeld]; !strings.Contains(e.Message, "removal(s) held: ") {
		t.Errorf("held event %+v", e)
	}
	if err := os.Rename(away, web); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, ch, done, winsvc.EventRemovalsReleased)

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("a stopped service's agent returned %v, want nil (as after SIGTERM)", err)
	}
	requireJSONLines(t, logs.String())
	if !strings.Contains(logs.String(), `"msg":"agent started"`) {
		t.Errorf("log has no start line:\n%s", logs)
	}
}

// copyManifests writes the example manifests into dir: orders-api at
// the top, iis-site and legacy-app in web/.
func copyManifests(t *testing.T, dir string) {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS("../../examples/manifests")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"iis-site.yaml", "legacy-app.yaml"} {
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(dir, "web", f)); err != nil {
			t.Fatal(err)
		}
	}
}

// setFaults sets the faults of the emulated host in state.
func setFaults(t *testing.T, state string, f sim.Faults) {
	t.Helper()
	h, err := sim.Open(state, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.SetFaults(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

// A config file that does not load stops the service at once, and says
// why in its log, as a JSON line naming the line of the file.
func TestServiceModeBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "reconciler.yaml")
	if err := os.WriteFile(cfg, []byte("dir: ['C:\\m']\ndriverr: sim\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tracker, _ := events()
	logs := &lockedBuffer{}
	con := &console{w: logs}
	err := runServiceCommand(context.Background(), []string{"watch", "--config", cfg}, io.Discard, con, tracker)
	if code := exitCode(err, con); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	requireJSONLines(t, logs.String())
	if !strings.Contains(logs.String(), `reconciler.yaml:2: driverr: unknown field`) {
		t.Errorf("the log does not say what is wrong:\n%s", logs)
	}
}

// fakeSink records events or fails.
type fakeSink struct {
	got  []winsvc.Event
	fail error
}

func (s *fakeSink) Write(e winsvc.Event) error {
	s.got = append(s.got, e)
	return s.fail
}

// Events are redacted before they reach the Event Log, and a failing log
// is said once.
func TestEventWriter(t *testing.T) {
	var said bytes.Buffer
	sink := &fakeSink{fail: errors.New("event log full")}
	emit := eventWriter(sink, &console{w: &said})
	emit(winsvc.Event{ID: winsvc.EventSourceFailing, Message: "source git https://user:s3cret@git.example.invalid/ops.git: failing"})
	emit(winsvc.Event{ID: winsvc.EventSourceRecovered, Message: "ok"})
	if len(sink.got) != 2 || strings.Contains(sink.got[0].Message, "s3cret") || !strings.Contains(sink.got[0].Message, "git.example.invalid") {
		t.Errorf("events written: %+v", sink.got)
	}
	if n := strings.Count(said.String(), "writing to the Windows Event Log failed"); n != 1 {
		t.Errorf("a failing event log said %d times, want once:\n%s", n, said.String())
	}
}

func TestWriteServiceState(t *testing.T) {
	tests := []struct {
		name string
		st   winsvc.State
		want []string
	}{
		{name: "not installed", st: winsvc.State{}, want: []string{"service reconciler is not installed"}},
		{name: "running", st: winsvc.State{Installed: true, State: "running", PID: 4242, StartType: "automatic (delayed start)",
			CommandLine: `"C:\Program Files\reconciler\reconciler.exe" watch --config "C:\ProgramData\reconciler\reconciler.yaml"`},
			want: []string{"state:     running (pid 4242)", "start:     automatic (delayed start)", `command:   "C:\Program Files\reconciler\reconciler.exe" watch --config`}},
		{name: "stopped with an error", st: winsvc.State{Installed: true, State: "stopped", ExitCode: 1},
			want: []string{"state:     stopped, last stop with an error (exit code 1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			writeServiceState(&out, tt.st)
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// Off Windows every service command says it is Windows-only, and does
// nothing else.
func TestServiceCommandsWindowsOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the service commands are real here")
	}
	for _, sub := range []string{"install", "uninstall", "start", "stop", "status"} {
		var stdout bytes.Buffer
		err := run(context.Background(), []string{"service", sub, "--driver", "sim", "--sim-state", filepath.Join(t.TempDir(), "s.json")}, &stdout, io.Discard)
		if !errors.Is(err, winsvc.ErrWindowsOnly) || stdout.Len() != 0 {
			t.Errorf("service %s: %v, stdout %q; want ErrWindowsOnly and nothing printed", sub, err, stdout.String())
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the agent's writes and the
// test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
