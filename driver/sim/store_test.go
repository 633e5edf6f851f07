package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/atomicfile"
	"github.com/reconciler/reconciler/spec"
)

// childStateEnv, when set, makes the test binary a child process that
// creates childSystems systems in the state file it names and exits.
const (
	childStateEnv = "SIM_TEST_CHILD_STATE"
	childSystems  = 20
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childStateEnv); path != "" {
		if err := runChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild creates childSystems systems, two goroutines at a time.
func runChild(path string) error {
	h, err := Open(path, zap.NewNop())
	if err != nil {
		return err
	}
	defer h.Close()
	return createMany(h, "child", childSystems)
}

// createMany creates n systems named prefix-i from two goroutines.
func createMany(h *EmulatedHost, prefix string, n int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := g; i < n; i += 2 {
				_, errs[i] = h.Create(context.Background(), createReq(fmt.Sprintf("%s-%d", prefix, i), spec.IsolationProcess, "nanoserver:ltsc2022"))
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	a := openTestHost(t, path)
	b := openTestHost(t, path)

	child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childStateEnv+"="+path)
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	if err := child.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	const perHost = 20
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { errA = createMany(a, "a", perHost) })
	wg.Go(func() { errB = createMany(b, "b", perHost) })
	wg.Wait()
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, childOut.String())
	}
	if errA != nil || errB != nil {
		t.Fatalf("creates: %v, %v", errA, errB)
	}

	var want []string
	for _, p := range []struct {
		prefix string
		n      int
	}{{"a", perHost}, {"b", perHost}, {"child", childSystems}} {
		for i := range p.n {
			want = append(want, sysID(fmt.Sprintf("%s-%d", p.prefix, i), fmt.Sprintf("v1-%s-%d", p.prefix, i)))
		}
	}
	slices.Sort(want)
	for name, h := range map[string]*EmulatedHost{"a": a, "b": b, "reopened": openTestHost(t, path)} {
		systems, err := h.List(t.Context())
		if err != nil {
			t.Fatalf("%s: List: %v", name, err)
		}
		if got := ids(systems); !slices.Equal(got, want) {
			t.Errorf("%s: List has %d systems %v, want %d %v", name, len(got), got, len(want), want)
		}
	}
	// Every process took its PIDs from the one host counter.
	seen := map[uint32]string{}
	for _, id := range want {
		view, err := a.Processes(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range view.Host {
			if other, dup := seen[p.PID]; dup {
				t.Errorf("host PID %d used by %s and %s", p.PID, other, id)
			}
			seen[p.PID] = id
		}
	}
}

func ids(systems []driver.System) []string {
	out := make([]string, len(systems))
	for i, s := range systems {
		out[i] = s.ID
	}
	return out
}

// readSnapshot parses the state file as a person's tools would.
func readSnapshot(t *testing.T, path string) snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatalf("state file is not JSON: %v\n%s", err, data)
	}
	return snap
}

// readJournal parses the journal as a person's tools would: its first
// line and its entries, failing on a line that is not a JSON object.
func readJournal(t *testing.T, path string) (header, []entry) {
	t.Helper()
	f, err := os.Open(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h header
	var out []entry
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		dst := any(&h)
		if !first {
			out = append(out, entry{})
			dst = &out[len(out)-1]
		}
		if err := json.Unmarshal(sc.Bytes(), dst); err != nil {
			t.Fatalf("journal line %d %q: %v", len(out)+1, sc.Text(), err)
		}
	}
	return h, out
}

// journalEntries returns the journal's entries (its lines after the first).
func journalEntries(t *testing.T, path string) []entry {
	t.Helper()
	_, entries := readJournal(t, path)
	return entries
}

func TestStateFileReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "host.json")
	h := openTestHost(t, path)
	ctx := t.Context()
	req := createReq("web", spec.IsolationHyperV, "mcr.microsoft.com/windows/servercore:ltsc2019")
	req.Spec.Env = map[string]string{"LOG_LEVEL": "info"}
	mustCreate(t, ctx, h, req)
	mustCreate(t, ctx, h, createReq("api", spec.IsolationProcess, "mcr.microsoft.com/windows/nanoserver:ltsc2022"))
	if err := h.SetFaults(ctx, Faults{Latency: 1500 * time.Millisecond, FailNames: []string{"bad"}}); err != nil {
		t.Fatal(err)
	}
	compactNow(t, h)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The host indented, then one system per line.
	for _, want := range []string{"\n  \"host\": {", `"build": 20348`, `"latency": "1.5s"`,
		"\n    {\"id\":\"" + managedID("api") + `","name":"api",`,
		"\n    {\"id\":\"" + managedID("web") + `","name":"web",`,
		`"isolation":"hyperv"`, `"name":"vmwp.exe"`, `"image":"mcr.microsoft.com/windows/servercore:ltsc2019"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("state file lacks %s:\n%s", want, data)
		}
	}
	snap := readSnapshot(t, path)
	if got := []string{snap.Systems[0].ID, snap.Systems[1].ID}; !slices.IsSorted(got) || len(snap.Systems) != 2 {
		t.Errorf("snapshot systems %v, want api and web sorted by id", got)
	}
	if snap.Systems[1].Spec.Env["LOG_LEVEL"] != "info" {
		t.Errorf("snapshot lost the requested spec: %+v", snap.Systems[1].Spec)
	}
	// Mode bits on Unix, an owner-only DACL on Windows.
	for _, p := range []string{path, path + ".journal"} {
		if private, err := atomicfile.Private(p); err != nil || !private {
			t.Errorf("%s is readable by others (%v), want it private to its owner", filepath.Base(p), err)
		}
	}

	// Round trip: a new reader sees what the writer saw.
	want, err := h.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reopened := openTestHost(t, path)
	got, err := reopened.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, func(a, b driver.System) bool { return a == b }) {
		t.Errorf("reopened List = %+v, want %+v", got, want)
	}
	faults, err := reopened.Faults(ctx)
	if err != nil || faults.Latency != 1500*time.Millisecond || !slices.Equal(faults.FailNames, []string{"bad"}) {
		t.Errorf("reopened Faults = %+v, %v", faults, err)
	}
}

// compactNow folds h's journal into its snapshot.
func compactNow(t *testing.T, h *EmulatedHost) {
	t.Helper()
	err := h.st.locked(t.Context(), true, h.st.compact)
	if err != nil {
		t.Fatalf("compact: %v", err)
	}
}

func TestJournalReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	writer := openTestHost(t, path)
	reader := openTestHost(t, path)
	ctx := t.Context()
	if _, err := reader.List(ctx); err != nil { // reader has read the new state
		t.Fatal(err)
	}
	snapBefore, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		mustCreate(t, ctx, writer, createReq(name, spec.IsolationProcess, "nanoserver:ltsc2022"))
	}
	if err := writer.Kill(ctx, "b", 3); err != nil {
		t.Fatal(err)
	}
	if err := writer.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	host := spec.Host{Build: 17763, Revision: 5329, SKU: spec.SKUServer, HyperV: true}
	if err := writer.SetHost(ctx, host); err != nil {
		t.Fatal(err)
	}

	// The mutations went to the journal, not into a rewritten snapshot.
	if snapAfter, err := os.ReadFile(path); err != nil || !bytes.Equal(snapAfter, snapBefore) {
		t.Errorf("snapshot rewritten by 6 mutations (err %v)", err)
	}
	var ops []string
	for _, e := range journalEntries(t, path) {
		ops = append(ops, e.Op)
	}
	if want := []string{opPut, opPut, opPut, opPut, opDelete, opHost}; !slices.Equal(ops, want) {
		t.Errorf("journal ops = %v, want %v", ops, want)
	}

	for name, h := range map[string]*EmulatedHost{"incremental reader": reader, "new reader": openTestHost(t, path)} {
		systems, err := h.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(systems), []string{managedID("a"), managedID("b")}; !slices.Equal(got, want) {
			t.Errorf("%s: List = %v, want %v", name, got, want)
			continue
		}
		if systems[1].State != driver.StateStopped || systems[1].ExitCode != 3 {
			t.Errorf("%s: b = %s exit %d, want stopped exit 3", name, systems[1].State, systems[1].ExitCode)
		}
		if got, err := h.Host(ctx); err != nil || got != host {
			t.Errorf("%s: Host = %+v, %v; want %+v", name, got, err, host)
		}
	}
}

func TestJournalTail(t *testing.T) {
	tests := []struct {
		name    string
		tail    string
		wantErr bool
	}{
		{name: "torn line", tail: `{"op":"put","system":{"id":"x_v1-x","na`},
		{name: "zeroed tail", tail: "\x00\x00\x00\x00"},
		{name: "corrupt complete line", tail: "{\"op\":\"put\",\n", wantErr: true},
		{name: "unknown op", tail: "{\"op\":\"explode\"}\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			h := openTestHost(t, path)
			mustCreate(t, t.Context(), h, createReq("a", spec.IsolationProcess, "nanoserver:ltsc2022"))
			f, err := os.OpenFile(path+".journal", os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tt.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			reader, err := Open(path, zap.NewNop())
			if tt.wantErr {
				if err == nil {
					reader.Close()
					t.Fatal("Open succeeded on a corrupt journal, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer reader.Close()
			// The torn line is ignored, and the next write cuts it off.
			mustCreate(t, t.Context(), reader, createReq("b", spec.IsolationProcess, "nanoserver:ltsc2022"))
			if n := len(journalEntries(t, path)); n != 2 {
				t.Errorf("journal has %d entries, want two puts", n)
			}
			for name, host := range map[string]*EmulatedHost{"writer": h, "reader": reader} {
				systems, err := host.List(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if got, want := ids(systems), []string{managedID("a"), managedID("b")}; !slices.Equal(got, want) {
					t.Errorf("%s: List = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	other := openTestHost(t, path)
	ctx := t.Context()
	if _, err := other.List(ctx); err != nil { // other has read generation 1
		t.Fatal(err)
	}
	// The journal holds minCompaction entries before it is folded in.
	n := minCompaction
	for i := range n {
		mustCreate(t, ctx, h, createReq(fmt.Sprintf("c%03d", i), spec.IsolationProcess, "nanoserver:ltsc2022"))
	}
	if snap := readSnapshot(t, path); snap.Generation != 1 || len(snap.Systems) != 0 {
		t.Errorf("after %d creates: snapshot generation %d with %d systems, want the new state's (1, none)", n, snap.Generation, len(snap.Systems))
	}
	if entries := journalEntries(t, path); len(entries) != n {
		t.Errorf("journal has %d entries, want %d", len(entries), n)
	}

	// One more, and the journal, longer than the snapshot, is folded into
	// a new one: creates alone compact the journal as it grows.
	n++
	mustCreate(t, ctx, h, createReq(fmt.Sprintf("c%03d", n-1), spec.IsolationProcess, "nanoserver:ltsc2022"))
	snap := readSnapshot(t, path)
	if snap.Generation != 2 || len(snap.Systems) != n {
		t.Errorf("after %d creates: snapshot generation %d with %d systems, want generation 2 with %d", n, snap.Generation, len(snap.Systems), n)
	}
	if snap.NextPID != firstHostPID+uint32(n*3*pidStep) {
		t.Errorf("snapshot nextPID = %d, want %d after %d systems of 3 processes", snap.NextPID, firstHostPID+n*3*pidStep, n)
	}
	if h, entries := readJournal(t, path); len(entries) != 0 || h.Op != opBegin || h.Generation != 2 || h.HostID != snap.HostID || h.Seq != snap.Seq || snap.Seq != uint64(n) {
		t.Errorf("journal after compaction = %+v %+v, want only the begin line of generation 2 continuing the snapshot's %d entries", h, entries, snap.Seq)
	}

	// Changes to the systems it has go to the journal until there are
	// more of them than systems, however short the lines.
	for i := range n {
		if err := h.Kill(ctx, fmt.Sprintf("c%03d", i), 9); err != nil {
			t.Fatal(err)
		}
	}
	if snap := readSnapshot(t, path); snap.Generation != 2 {
		t.Errorf("after %d kills of %d systems: snapshot generation %d, want 2 (not compacted)", n, n, snap.Generation)
	}
	if err := h.SetHost(ctx, defaultHost); err != nil {
		t.Fatal(err)
	}
	snap = readSnapshot(t, path)
	if snap.Generation != 3 || len(snap.Systems) != n {
		t.Errorf("after %d entries: snapshot generation %d with %d systems, want generation 3 with %d", n+1, snap.Generation, len(snap.Systems), n)
	}
	if len(snap.Systems) > 0 && (snap.Systems[0].State != driver.StateStopped || snap.Systems[0].ExitCode != 9) {
		t.Errorf("snapshot has c000 %s exit %d, want stopped exit 9", snap.Systems[0].State, snap.Systems[0].ExitCode)
	}

	// A reader that last saw generation 1 catches up.
	systems, err := other.List(ctx)
	if err != nil || len(systems) != n || systems[0].State != driver.StateStopped {
		t.Errorf("other reader: List = %d systems, %v; want %d, the first stopped", len(systems), err, n)
	}
}

// A crash after the new snapshot was written but before the journal was
// replaced leaves a journal of the previous generation: it is already in
// the snapshot and must not be replayed over it.
func TestStaleJournalAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	ctx := t.Context()
	mustCreate(t, ctx, h, createReq("a", spec.IsolationProcess, "nanoserver:ltsc2022"))
	mustCreate(t, ctx, h, createReq("b", spec.IsolationProcess, "nanoserver:ltsc2022"))
	if err := h.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// The crash: the new snapshot is in place, the journal is not replaced.
	h.st.writeAtomic = failOn(h.Path() + ".journal")
	if err := h.st.locked(ctx, true, h.st.compact); err == nil {
		t.Fatal("compact succeeded with the journal unwritable")
	}
	h.st.writeAtomic = writeFileAtomic
	if snap, hdr := readSnapshot(t, path), journalHeaderOf(t, path); snap.Generation != 2 || hdr.Generation != 1 {
		t.Fatalf("after the crash: snapshot generation %d, journal generation %d; want 2 and 1", snap.Generation, hdr.Generation)
	}

	reopened := openTestHost(t, path)
	for name, host := range map[string]*EmulatedHost{"reopened": reopened, "writer": h} {
		systems, err := host.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(systems), []string{managedID("b")}; !slices.Equal(got, want) {
			t.Errorf("%s: List = %v, want %v", name, got, want)
		}
	}
	mustCreate(t, ctx, reopened, createReq("c", spec.IsolationProcess, "nanoserver:ltsc2022"))
	hdr, entries := readJournal(t, path)
	if hdr.Generation != 2 || len(entries) != 1 || entries[0].System == nil || entries[0].System.Name != "c" {
		t.Errorf("journal after the next write = %+v %+v, want a fresh generation 2 journal with c", hdr, entries)
	}
	if systems, err := h.List(ctx); err != nil || !slices.Equal(ids(systems), []string{managedID("b"), managedID("c")}) {
		t.Errorf("writer: List = %v, %v", ids(systems), err)
	}
}

// journalHeaderOf returns the journal's first line.
func journalHeaderOf(t *testing.T, path string) header {
	t.Helper()
	h, _ := readJournal(t, path)
	return h
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "not json", content: "hello", wantErr: "is not a complete state"},
		{name: "unknown field", content: `{"generation":1,"hosts":{}}`, wantErr: "unknown field"},
		{name: "generation 0", content: `{"generation":0,"systems":[]}`, wantErr: "generation is 0"},
		{name: "duplicate system", content: `{"generation":1,"systems":[{"id":"a"},{"id":"a"}]}`, wantErr: "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			h, err := Open(path, zap.NewNop())
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open error %q, want it to name %s and say %q", err, path, tt.wantErr)
			}
		})
	}
}

// Updates that queue while another one runs are committed as one group:
// one journal append and one fsync for all of them, each caller getting
// its own outcome. A caller whose ctx ends while it waits in the queue
// leaves it, and its change is not made.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	ctx := t.Context()
	const n = 8
	for i := range n {
		mustCreate(t, ctx, h, createReq(fmt.Sprintf("c%d", i), spec.IsolationProcess, "nanoserver:ltsc2022"))
	}
	queued := func(want int) {
		t.Helper()
		for {
			h.st.mu.Lock()
			got := len(h.st.queue)
			h.st.mu.Unlock()
			if got == want {
				return
			}
			runtime.Gosched()
		}
	}
	appends := h.st.appends
	h.st.sem <- struct{}{} // an update in progress

	cancelled, cancel := context.WithCancel(ctx)
	gone := make(chan error, 1)
	go func() { gone <- h.Kill(cancelled, "c0", 1) }()
	queued(1)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Errorf("Kill whose ctx ended in the queue = %v, want context.Canceled", err)
	}
	queued(0)

	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = h.Kill(ctx, fmt.Sprintf("c%d", i), 7) })
	}
	wg.Go(func() { errs[n] = h.Kill(ctx, "missing", 7) })
	queued(n + 1)
	<-h.st.sem // the update in progress ends: one caller leads the others
	wg.Wait()

	if err := errors.Join(errs[:n]...); err != nil {
		t.Errorf("Kill in a group: %v", err)
	}
	if !errors.Is(errs[n], driver.ErrNotFound) {
		t.Errorf("Kill of a missing system in a group = %v, want driver.ErrNotFound", errs[n])
	}
	if got := h.st.appends - appends; got != 1 {
		t.Errorf("%d queued updates took %d journal appends, want 1", n+1, got)
	}
	if entries := journalEntries(t, path); len(entries) != 2*n {
		t.Errorf("journal has %d entries, want %d creates and %d kills", len(entries), n, n)
	}
	systems, err := openTestHost(t, path).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range systems {
		if s.State != driver.StateStopped || s.ExitCode != 7 {
			t.Errorf("a new reader sees %s %s exit %d, want stopped exit 7", s.Name, s.State, s.ExitCode)
		}
	}
}

// The state file is read whatever its JSON layout: the one this build
// writes (one system per line, decoded in parallel), the indented one of
// earlier builds, one line, or a line split by hand; an unknown field is
// refused in any of them.
func TestSnapshotLayouts(t *testing.T) {
	const systems = 4 * minParallel // enough for the parallel decode
	dir := t.TempDir()
	path := filepath.Join(dir, "host.json")
	h := openTestHost(t, path)
	populate(t, h, systems)
	want, err := h.List(t.Context())
	if err != nil || len(want) != systems {
		t.Fatalf("List = %d systems, %v; want %d", len(want), err, systems)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	indent := func(data []byte) []byte {
		var b bytes.Buffer
		if err := json.Indent(&b, data, "", "  "); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	compact := func(data []byte) []byte {
		var b bytes.Buffer
		if err := json.Compact(&b, data); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	second := `"name":"existing-1",`
	tests := []struct {
		name    string
		layout  func(data []byte) []byte
		damaged bool
		fast    bool // read one line per system, in parallel
	}{
		{name: "as written", layout: func(data []byte) []byte { return data }, fast: true},
		{name: "indented", layout: indent},
		{name: "one line", layout: compact},
		{name: "a system split over two lines", layout: func(data []byte) []byte {
			return bytes.Replace(data, []byte(second), []byte(second+"\n"), 1)
		}},
		{name: "an unknown field in a system", damaged: true, layout: func(data []byte) []byte {
			return bytes.Replace(data, []byte(second), []byte(second+`"color":"blue",`), 1)
		}},
		{name: "an unknown field in a system, indented", damaged: true, layout: func(data []byte) []byte {
			return indent(bytes.Replace(data, []byte(second), []byte(second+`"color":"blue",`), 1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.layout(written)
			if !bytes.Contains(written, []byte(second)) || bytes.Equal(data, written) != (tt.name == "as written") {
				t.Fatalf("the layout did not change the state file as it should")
			}
			if _, fast := decodeSnapshotLines(data); fast != tt.fast {
				t.Errorf("read one line per system: %v, want %v", fast, tt.fast)
			}
			p := filepath.Join(t.TempDir(), "host.json")
			writeFile(t, p, data)
			writeFile(t, p+".journal", journal)
			got, err := Open(p, zap.NewNop())
			if tt.damaged {
				if !errors.Is(err, ErrStateDamaged) || !strings.Contains(err.Error(), "color") {
					t.Errorf("Open = %v, want ErrStateDamaged naming the unknown field", err)
				}
				if err == nil {
					got.Close()
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer got.Close()
			list, err := got.List(t.Context())
			if err != nil || !slices.Equal(list, want) {
				t.Errorf("List = %d systems, %v; want the %d written", len(list), err, len(want))
			}
		})
	}
}
