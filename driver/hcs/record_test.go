package hcs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func startTestRecording(t *testing.T) (*recording, string) {
	t.Helper()
	return startTestRecordingIn(t, filepath.Join(t.TempDir(), "recorded"))
}

func startTestRecordingIn(t *testing.T, dir string) (*recording, string) {
	t.Helper()
	host := hostRegistryValues{CurrentBuildNumber: "20348", UBR: 2340, InstallationType: "Server Core", VMMS: true, HypervisorPresent: true}
	r, err := startRecording(dir, host, time.Date(2026, 12, 2, 23, 30, 0, 0, time.FixedZone("CET", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.stop() })
	return r, dir
}

func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func TestRecordingKeepsHostListsAndFailures(t *testing.T) {
	r, dir := startTestRecording(t)
	if got, want := readJSON[recordedHost](t, filepath.Join(dir, "host.json")),
		(recordedHost{Build: "10.0.20348.2340", InstallationType: "Server Core", HyperV: true, Date: "2026-12-02"}); got != want {
		t.Errorf("host.json = %+v, want %+v", got, want)
	}

	// What the driver calls reaches the active recording.
	empty := []byte(`[]`)
	one := []byte(`[{"Id":"web_0123456789ab_v1-00","Owner":"reconciler","RuntimeId":""}]`)
	for _, raw := range [][]byte{empty, one, empty, []byte(`not json, kept as written`)} {
		activeRecording.Load().list(raw)
	}
	lists, err := filepath.Glob(filepath.Join(dir, "lists", "*.json"))
	if err != nil || len(lists) != 3 {
		t.Fatalf("lists = %v (%v), want 3 distinct ones", lists, err)
	}
	named := func(raw string) string {
		sum := sha256.Sum256([]byte(raw))
		return filepath.Join(dir, "lists", hex.EncodeToString(sum[:6])+".json")
	}
	if got := readJSON[[]map[string]any](t, named(string(one))); len(got) != 1 || got[0]["Owner"] != "reconciler" {
		t.Errorf("the one-system list = %v", got)
	}
	if raw, _ := os.ReadFile(named("not json, kept as written")); string(raw) != "not json, kept as written\n" {
		t.Errorf("a list that is not JSON = %q, want HCS's text as it was", raw)
	}

	_ = hcsError("create compute system", errors.New("The virtual machine could not be started because a required feature is not installed."), hcsFailure{Code: 0x80370114})
	_ = hcsError("create compute system", errors.New("The virtual machine could not be started because a required feature is not installed."), hcsFailure{Code: 0x80370114})
	_ = hcsError("terminate compute system", errors.New("The operation failed because the container exited unexpectedly."), hcsFailure{Code: 0xC0370106})
	want := []recordedFailure{
		{Op: "create compute system", Code: "0x80370114", Text: "The virtual machine could not be started because a required feature is not installed.", Count: 2},
		{Op: "terminate compute system", Code: "0xC0370106", Text: "The operation failed because the container exited unexpectedly.", Count: 1},
	}
	got := readJSON[[]recordedFailure](t, filepath.Join(dir, "errors.json"))
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("errors.json = %+v, want %+v", got, want)
	}
	if err := r.stop(); err != nil {
		t.Errorf("stop = %v, want nil", err)
	}
	if activeRecording.Load() != nil {
		t.Error("the recording is still active after stop")
	}
	_ = hcsError("open compute system", errors.New("not recorded"), hcsFailure{Code: 2}) // no recording: a no-op

	// The next driver of the run adds to what this one kept.
	r, _ = startTestRecordingIn(t, dir)
	r.list(one)
	r.list([]byte(`[{"Id":"db"}]`))
	_ = hcsError("terminate compute system", errors.New("The operation failed because the container exited unexpectedly."), hcsFailure{Code: 0xC0370106})
	if lists, _ := filepath.Glob(filepath.Join(dir, "lists", "*.json")); len(lists) != 4 {
		t.Errorf("%d lists after a second driver, want 4", len(lists))
	}
	if got := readJSON[[]recordedFailure](t, filepath.Join(dir, "errors.json")); len(got) != 2 || got[1].Count != 2 {
		t.Errorf("errors.json after a second driver = %+v, want the terminate failure counted twice", got)
	}
}

func TestRecordingCapsLists(t *testing.T) {
	r, dir := startTestRecording(t)
	for i := range maxRecordedLists + 10 {
		r.list([]byte(`[{"Id":"` + strings.Repeat("a", i) + `"}]`))
	}
	lists, _ := filepath.Glob(filepath.Join(dir, "lists", "*.json"))
	if len(lists) != maxRecordedLists {
		t.Errorf("%d lists kept, want the cap %d", len(lists), maxRecordedLists)
	}
}

func TestRecordingRefusesASecondAndReportsAFailedWrite(t *testing.T) {
	r, dir := startTestRecording(t)
	if _, err := startRecording(filepath.Join(t.TempDir(), "other"), hostRegistryValues{}, time.Now()); err == nil {
		t.Error("a second recording in one process was accepted")
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil { // the folder is now a file
		t.Fatal(err)
	}
	r.list([]byte(`[]`))
	r.failure("open compute system", 2, "The system cannot find the file specified.")
	if err := r.stop(); err == nil || !strings.Contains(err.Error(), "recording") {
		t.Errorf("stop = %v, want the first failed write", err)
	}
}
