package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gofrs/flock"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// stateFiles are a state's two files as they were at one moment.
type stateFiles struct{ snapshot, journal []byte }

func readStateFiles(t *testing.T, path string) stateFiles {
	t.Helper()
	var f stateFiles
	f.snapshot, _ = os.ReadFile(path)
	f.journal, _ = os.ReadFile(path + ".journal")
	return f
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// damageFixture is a state of generation 2 with entries in its journal,
// plus what a careless hand could put in its place.
type damageFixture struct {
	path, journal string
	// before is the state before its last compaction; other is the state
	// of another host with the same history.
	before, other stateFiles
}

// newDamageFixture makes a, b and c (b killed), compacting after b.
func newDamageFixture(t *testing.T) (*damageFixture, *EmulatedHost) {
	t.Helper()
	dir := t.TempDir()
	other := openTestHost(t, filepath.Join(dir, "other.json"))
	h := openTestHost(t, filepath.Join(dir, "host.json"))
	fx := &damageFixture{path: h.Path(), journal: h.Path() + ".journal"}
	ctx := t.Context()
	for _, host := range []*EmulatedHost{h, other} {
		mustCreate(t, ctx, host, createReq("a", spec.IsolationProcess, "nanoserver:ltsc2022"))
		mustCreate(t, ctx, host, createReq("b", spec.IsolationProcess, "nanoserver:ltsc2022"))
	}
	fx.before = readStateFiles(t, fx.path)
	for _, host := range []*EmulatedHost{h, other} {
		compactNow(t, host)
		mustCreate(t, ctx, host, createReq("c", spec.IsolationHyperV, "nanoserver:ltsc2022"))
		if err := host.Kill(ctx, "b", 1); err != nil {
			t.Fatal(err)
		}
	}
	fx.other = readStateFiles(t, other.Path())
	return fx, h
}

// Every way a careless hand can break a state is refused, by a new Open
// and by a host that had it open, with an error naming the file at fault;
// nothing is written to the broken state.
func TestDamagedStateRefused(t *testing.T) {
	journalOnly := func(fx *damageFixture) string { return fx.journal }
	snapshotOnly := func(fx *damageFixture) string { return fx.path }
	cut := func(path string, at func(data []byte) int) func(t *testing.T, fx *damageFixture) {
		return func(t *testing.T, fx *damageFixture) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, data[:at(data)])
		}
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, fx *damageFixture)
		blame   func(fx *damageFixture) string
		wantErr string
	}{
		{name: "journal deleted", blame: journalOnly, wantErr: "is missing",
			damage: func(t *testing.T, fx *damageFixture) { os.Remove(fx.journal) }},
		{name: "journal emptied", blame: journalOnly, wantErr: "no valid first line",
			damage: func(t *testing.T, fx *damageFixture) { writeFile(t, fx.journal, nil) }},
		{name: "journal cut in its first line", blame: journalOnly, wantErr: "no valid first line",
			damage: func(t *testing.T, fx *damageFixture) {
				cut(fx.journal, func(d []byte) int { return bytes.IndexByte(d, '\n') / 2 })(t, fx)
			}},
		{name: "journal cut after its first line", blame: journalOnly, wantErr: "it was truncated",
			damage: func(t *testing.T, fx *damageFixture) {
				cut(fx.journal, func(d []byte) int { return bytes.IndexByte(d, '\n') + 1 })(t, fx)
			}},
		{name: "journal cut at a line end", blame: journalOnly, wantErr: "it was truncated",
			damage: func(t *testing.T, fx *damageFixture) {
				cut(fx.journal, func(d []byte) int { return bytes.LastIndexByte(d[:len(d)-1], '\n') + 1 })(t, fx)
			}},
		{name: "journal cut inside its last line", blame: journalOnly, wantErr: "it was truncated",
			damage: func(t *testing.T, fx *damageFixture) {
				cut(fx.journal, func(d []byte) int { return len(d) - 10 })(t, fx)
			}},
		{name: "journal line removed", blame: journalOnly, wantErr: "a line was removed",
			damage: func(t *testing.T, fx *damageFixture) {
				data, _ := os.ReadFile(fx.journal)
				lines := bytes.SplitAfter(data, []byte("\n"))
				writeFile(t, fx.journal, bytes.Join(slices.Delete(lines, 1, 2), nil))
			}},
		{name: "journal generation edited down", blame: journalOnly, wantErr: "previous generation",
			damage: func(t *testing.T, fx *damageFixture) { editFile(t, fx.journal, `"generation":2`, `"generation":1`) }},
		{name: "journal generation edited up", blame: journalOnly, wantErr: "newer than the state file",
			damage: func(t *testing.T, fx *damageFixture) { editFile(t, fx.journal, `"generation":2`, `"generation":3`) }},
		{name: "journal of another host", blame: journalOnly, wantErr: "belongs to another emulated host",
			damage: func(t *testing.T, fx *damageFixture) { writeFile(t, fx.journal, fx.other.journal) }},
		{name: "journal of before the compaction", blame: journalOnly, wantErr: "previous generation 1 and ends at entry 1, but the state file",
			damage: func(t *testing.T, fx *damageFixture) {
				// Not the journal the compaction folded in (which ended at
				// entry 2): the one from before b was created.
				writeFile(t, fx.journal, fx.before.journal[:bytes.LastIndexByte(fx.before.journal[:len(fx.before.journal)-1], '\n')+1])
			}},
		{name: "state file deleted", blame: snapshotOnly, wantErr: "is missing while its journal",
			damage: func(t *testing.T, fx *damageFixture) { os.Remove(fx.path) }},
		{name: "state file emptied", blame: snapshotOnly, wantErr: "is not a complete state",
			damage: func(t *testing.T, fx *damageFixture) { writeFile(t, fx.path, nil) }},
		{name: "state file cut in half", blame: snapshotOnly, wantErr: "is not a complete state",
			damage: func(t *testing.T, fx *damageFixture) { cut(fx.path, func(d []byte) int { return len(d) / 2 })(t, fx) }},
		{name: "state file of before the compaction", blame: journalOnly, wantErr: "the state file is an older copy",
			damage: func(t *testing.T, fx *damageFixture) { writeFile(t, fx.path, fx.before.snapshot) }},
		{name: "state file of another host", blame: journalOnly, wantErr: "belongs to another emulated host",
			damage: func(t *testing.T, fx *damageFixture) { writeFile(t, fx.path, fx.other.snapshot) }},
		{name: "state file sequence edited", blame: journalOnly, wantErr: "continues after entry 2 but the state file",
			damage: func(t *testing.T, fx *damageFixture) { editFile(t, fx.path, `"seq": 2`, `"seq": 1`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx, running := newDamageFixture(t)
			tt.damage(t, fx)
			damaged := readStateFiles(t, fx.path)
			h, err := Open(fx.path, zap.NewNop())
			if err == nil {
				systems, _ := h.List(t.Context())
				h.Close()
				t.Fatalf("Open succeeded on a damaged state, with systems %v", ids(systems))
			}
			_, listErr := running.List(t.Context())
			for who, err := range map[string]error{"Open": err, "an open host's List": listErr} {
				if !errors.Is(err, ErrStateDamaged) {
					t.Errorf("%s = %v, want ErrStateDamaged", who, err)
					continue
				}
				// (The open host may notice another symptom first: a
				// journal shorter than what it had read.)
				msg, want := err.Error(), tt.wantErr
				if who != "Open" {
					want = ""
				}
				if !strings.Contains(msg, tt.blame(fx)+" ") || !strings.Contains(msg, want) || !strings.Contains(msg, "restore it from a backup") {
					t.Errorf("%s error %q, want it to blame %s, say %q and what to do", who, msg, tt.blame(fx), want)
				}
			}
			// An update through the open host is refused too.
			if err := running.SetFaults(t.Context(), Faults{}); !errors.Is(err, ErrStateDamaged) {
				t.Errorf("SetFaults on a damaged state = %v, want ErrStateDamaged", err)
			}
			if after := readStateFiles(t, fx.path); !bytes.Equal(after.snapshot, damaged.snapshot) || !bytes.Equal(after.journal, damaged.journal) {
				t.Errorf("the damaged state was written to")
			}
		})
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s has no %s:\n%s", path, old, data)
	}
	writeFile(t, path, bytes.Replace(data, []byte(old), []byte(new), 1))
}

// A state that never existed starts a new host; one deleted while a host
// has it open is refused by that host.
func TestDeletedWhileOpen(t *testing.T) {
	fx, running := newDamageFixture(t)
	os.Remove(fx.path)
	os.Remove(fx.journal)
	if _, err := running.List(t.Context()); !errors.Is(err, ErrStateDamaged) || !strings.Contains(err.Error(), "deleted while in use") {
		t.Errorf("List on a deleted state = %v, want ErrStateDamaged saying it was deleted", err)
	}
	if _, err := os.Stat(fx.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the open host recreated the deleted state (%v)", err)
	}
	h := openTestHost(t, fx.path)
	if systems, err := h.List(t.Context()); err != nil || len(systems) != 0 {
		t.Errorf("a new Open of a path without state: List = %v, %v; want a new, empty host", ids(systems), err)
	}
}

// Every state a crash can leave opens, with what was committed.
func TestCrashStates(t *testing.T) {
	ctx := t.Context()
	// grown are the systems whose creates make the journal outgrow the
	// snapshot: the last create compacts.
	var grown []string
	for i := range minCompaction + 1 {
		grown = append(grown, managedID(fmt.Sprintf("g%03d", i)))
	}
	tests := []struct {
		name string
		// crash brings a fresh state at path to the crash point.
		crash   func(t *testing.T, path string)
		wantIDs []string
	}{
		{
			name: "creation cut after the journal",
			crash: func(t *testing.T, path string) {
				st, err := openStore(path, zap.NewNop())
				if err != nil {
					t.Fatal(err)
				}
				defer st.close()
				st.writeAtomic = failOn(path)
				if _, err := st.initialize(ctx); err == nil {
					t.Fatal("initialize succeeded with the state file unwritable")
				}
				if _, err := os.Stat(path + ".journal"); err != nil {
					t.Fatalf("no journal after the crash: %v", err)
				}
			},
		},
		{
			name: "append torn",
			crash: func(t *testing.T, path string) {
				h := openTestHost(t, path)
				mustCreate(t, ctx, h, createReq("a", spec.IsolationProcess, "nanoserver:ltsc2022"))
				appendFile(t, path+".journal", `{"seq":2,"op":"put","system":{"id":"b`)
			},
			wantIDs: []string{managedID("a")},
		},
		{
			name: "appended, committed mark not written",
			crash: func(t *testing.T, path string) {
				h := openTestHost(t, path)
				mustCreate(t, ctx, h, createReq("a", spec.IsolationProcess, "nanoserver:ltsc2022"))
				mark := readJournalHeaderLine(t, path)
				mustCreate(t, ctx, h, createReq("b", spec.IsolationProcess, "nanoserver:ltsc2022"))
				data, _ := os.ReadFile(path + ".journal")
				writeFile(t, path+".journal", append(mark, data[len(mark):]...))
			},
			wantIDs: []string{managedID("a"), managedID("b")},
		},
		{
			name:    "compaction cut before the snapshot",
			crash:   func(t *testing.T, path string) { compactFailing(t, path, "") },
			wantIDs: []string{managedID("a")},
		},
		{
			name:    "compaction cut after the snapshot",
			crash:   func(t *testing.T, path string) { compactFailing(t, path, ".journal") },
			wantIDs: []string{managedID("a")},
		},
		{
			name: "compaction of a growing journal cut after the snapshot",
			crash: func(t *testing.T, path string) {
				h := openTestHost(t, path)
				h.st.writeAtomic = failOn(h.Path() + ".journal")
				for i := range grown {
					mustCreate(t, ctx, h, createReq(fmt.Sprintf("g%03d", i), spec.IsolationProcess, "nanoserver:ltsc2022"))
				}
				if snap, hdr := readSnapshot(t, path), journalHeaderOf(t, path); snap.Generation != 2 || len(snap.Systems) != len(grown) || hdr.Generation != 1 {
					t.Fatalf("after the crash: snapshot generation %d with %d systems, journal generation %d; want 2 with %d, and 1",
						snap.Generation, len(snap.Systems), hdr.Generation, len(grown))
				}
			},
			wantIDs: grown,
		},
		{
			name: "compaction finished by the next append, cut before the new journal",
			crash: func(t *testing.T, path string) {
				h := compactFailing(t, path, ".journal")
				if _, err := h.Create(ctx, createReq("b", spec.IsolationProcess, "nanoserver:ltsc2022")); err == nil {
					t.Fatal("Create succeeded with the journal unreplaceable")
				}
			},
			wantIDs: []string{managedID("a")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			tt.crash(t, path)
			h := openTestHost(t, path)
			systems, err := h.List(ctx)
			if err != nil {
				t.Fatalf("List after the crash: %v", err)
			}
			if got := ids(systems); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("List after the crash = %v, want %v", got, tt.wantIDs)
			}
			// And the state goes on: a write, then a new reader sees it all.
			mustCreate(t, ctx, h, createReq("z", spec.IsolationProcess, "nanoserver:ltsc2022"))
			again, err := openTestHost(t, path).List(ctx)
			if want := append(slices.Clone(tt.wantIDs), managedID("z")); err != nil || !slices.Equal(ids(again), want) {
				t.Errorf("after a write: List = %v, %v; want %v", ids(again), err, want)
			}
			if snap, hdr := readSnapshot(t, path), journalHeaderOf(t, path); snap.HostID == "" || hdr.HostID != snap.HostID {
				t.Errorf("host ids: state file %q, journal %q; want one, the same", snap.HostID, hdr.HostID)
			}
		})
	}
}

// errReadOnly is what failOn makes writes fail with.
var errReadOnly = &fs.PathError{Op: "open", Path: "(temporary file)", Err: syscall.EACCES}

// compactFailing creates a in a new state at path, then compacts it with
// the state file's replacement (suffix "") or the journal's (".journal")
// failing: a crash just before that write.
func compactFailing(t *testing.T, path, suffix string) *EmulatedHost {
	t.Helper()
	h := openTestHost(t, path)
	mustCreate(t, t.Context(), h, createReq("a", spec.IsolationProcess, "nanoserver:ltsc2022"))
	h.st.writeAtomic = failOn(h.Path() + suffix)
	if err := h.st.locked(t.Context(), true, h.st.compact); err == nil {
		t.Fatalf("compact succeeded with %s%s unwritable", h.Path(), suffix)
	}
	return h
}

// failOn is a store's writeAtomic that fails for the files at paths (all
// files when none is named) as a read-only folder would; for what follows,
// it is a crash just before that write.
func failOn(paths ...string) func(string, []byte, fs.FileMode) error {
	return func(p string, data []byte, perm fs.FileMode) error {
		if len(paths) == 0 || slices.Contains(paths, p) {
			return errReadOnly
		}
		return writeFileAtomic(p, data, perm)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func readJournalHeaderLine(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	return data[:bytes.IndexByte(data, '\n')+1]
}

// A compaction that fails never fails the change that ran it: the change
// is committed, the failure is logged once, and the compaction is tried
// again until it works.
func TestCompactionFailureKeepsCommittedChanges(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	path := filepath.Join(t.TempDir(), "host.json")
	h, err := Open(path, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx := t.Context()
	h.st.writeAtomic = failOn()
	n := minCompaction + 10
	for i := range n {
		if _, err := h.Create(ctx, createReq(fmt.Sprintf("c%03d", i), spec.IsolationProcess, "nanoserver:ltsc2022")); err != nil {
			t.Fatalf("Create #%d with compaction failing: %v", i, err)
		}
	}
	if err := h.Remove(ctx, managedID("c000"), 0); err != nil {
		t.Fatalf("Remove with compaction failing: %v", err)
	}
	if err := h.Kill(ctx, "c001", 2); err != nil {
		t.Fatalf("Kill with compaction failing: %v", err)
	}
	if got := logs.FilterMessageSnippet("journal compaction failed").Len(); got != 1 {
		t.Errorf("compaction failure logged %d times, want once", got)
	}
	if snap := readSnapshot(t, path); snap.Generation != 1 {
		t.Errorf("state file generation %d, want 1 (no compaction could happen)", snap.Generation)
	}
	checkSystems := func(who string, h *EmulatedHost) {
		t.Helper()
		systems, err := h.List(ctx)
		if err != nil {
			t.Fatalf("%s: List: %v", who, err)
		}
		if len(systems) != n-1 || systems[0].ID != managedID("c001") || systems[0].State != driver.StateStopped {
			t.Errorf("%s: List has %d systems, first %+v; want %d, c001 stopped", who, len(systems), systems[0], n-1)
		}
	}
	checkSystems("writer", h)
	checkSystems("reader", openTestHost(t, path))

	// Writable again: the next change compacts, and that is logged once.
	h.st.writeAtomic = writeFileAtomic
	if err := h.SetHost(ctx, defaultHost); err != nil {
		t.Fatal(err)
	}
	if snap := readSnapshot(t, path); snap.Generation != 2 || len(snap.Systems) != n-1 {
		t.Errorf("after recovery: state file generation %d with %d systems, want 2 with %d", snap.Generation, len(snap.Systems), n-1)
	}
	if got := logs.FilterMessageSnippet("journal compaction works again").Len(); got != 1 {
		t.Errorf("compaction recovery logged %d times, want once", got)
	}
	checkSystems("reader after recovery", openTestHost(t, path))
}

// States of the format before host ids, as earlier builds wrote them.
const (
	legacyWeb = `{"id":"web_v1-0123456789abcdef","name":"web","owner":"reconciler","isolation":"process","image":"nanoserver:ltsc2022","state":"running","specHash":"v1-0123456789abcdef","exitCode":0,"created":"2026-01-01T00:00:00Z","processes":[{"pid":1000,"name":"cmd.exe"}],"spec":{"image":"nanoserver:ltsc2022"}}`
	legacyIIS = `{"id":"iis","name":"iis","owner":"docker","isolation":"process","image":"nanoserver:ltsc2022","state":"running","exitCode":0,"created":"2026-01-01T00:00:00Z","processes":[],"spec":{"image":"nanoserver:ltsc2022"}}`
)

func legacySnapshot(generation int, systems ...string) string {
	return fmt.Sprintf(`{"generation": %d, "host": {"build": 20348, "revision": 1, "sku": "server", "hyperv": true},
"faults": {"latency": "0s", "transientFailures": 0}, "nextPID": 1004, "systems": [%s]}`+"\n", generation, strings.Join(systems, ","))
}

func legacyJournal(generation int, systems ...string) string {
	out := fmt.Sprintf(`{"op":"begin","generation":%d}`+"\n", generation)
	for _, s := range systems {
		out += `{"op":"put","system":` + s + `,"nextPID":1004}` + "\n"
	}
	return out
}

// A state of the format before host ids opens with its containers (their
// ids of that time kept) and is upgraded to the checked format; the
// upgrade's own crash window opens too. A damaged one is refused.
func TestLegacyState(t *testing.T) {
	const web, iis = "web_v1-0123456789abcdef", "iis"
	tests := []struct {
		name              string
		snapshot, journal string // "" for a missing file
		wantIDs           []string
		wantErr           string
	}{
		{name: "systems in the journal", snapshot: legacySnapshot(1), journal: legacyJournal(1, legacyWeb, legacyIIS), wantIDs: []string{iis, web}},
		{name: "systems in the snapshot", snapshot: legacySnapshot(2, legacyIIS, legacyWeb), journal: legacyJournal(2), wantIDs: []string{iis, web}},
		{name: "stale journal", snapshot: legacySnapshot(2, legacyWeb), journal: legacyJournal(1, legacyWeb, legacyIIS), wantIDs: []string{web}},
		{name: "upgrade cut after the state file",
			snapshot: `{"hostID": "00112233445566778899aabbccddeeff", "generation": 2, "seq": 0, "host": {"build": 20348, "sku": "server"}, "faults": {}, "nextPID": 1004, "systems": [` + legacyWeb + `]}`,
			journal:  legacyJournal(1, legacyWeb), wantIDs: []string{web}},
		{name: "journal missing", snapshot: legacySnapshot(1), wantErr: "is missing"},
		{name: "journal of the checked format", snapshot: legacySnapshot(1),
			journal: `{"op":"begin","hostID":"00112233445566778899aabbccddeeff","generation":1,"seq":0,"committed":104                 }` + "\n",
			wantErr: "belongs to another emulated host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			writeFile(t, path, []byte(tt.snapshot))
			if tt.journal != "" {
				writeFile(t, path+".journal", []byte(tt.journal))
			}
			h, err := Open(path, zap.NewNop())
			if tt.wantErr != "" {
				if err == nil {
					h.Close()
					t.Fatal("Open succeeded")
				}
				if !errors.Is(err, ErrStateDamaged) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Open = %v, want ErrStateDamaged saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { h.Close() })
			systems, err := h.List(t.Context())
			if err != nil || !slices.Equal(ids(systems), tt.wantIDs) {
				t.Fatalf("List = %v, %v; want %v", ids(systems), err, tt.wantIDs)
			}
			for _, s := range systems {
				if s.ID == web && s.SpecHash != "v1-0123456789abcdef" {
					t.Errorf("%s lost its spec hash: %+v", web, s)
				}
			}
			// Upgraded (a stale journal is replaced by the first write).
			if err := h.SetFaults(t.Context(), Faults{}); err != nil {
				t.Fatal(err)
			}
			snap, hdr := readSnapshot(t, path), journalHeaderOf(t, path)
			if snap.HostID == "" || hdr.HostID != snap.HostID || hdr.Generation != snap.Generation {
				t.Errorf("not upgraded: state file host %q generation %d, journal host %q generation %d", snap.HostID, snap.Generation, hdr.HostID, hdr.Generation)
			}
			if again, err := openTestHost(t, path).List(t.Context()); err != nil || !slices.Equal(ids(again), tt.wantIDs) {
				t.Errorf("reopened after the upgrade: List = %v, %v", ids(again), err)
			}
		})
	}
}

// Every path to one state is one state with one lock: through a symlinked
// file, a symlinked folder, or a link to a state not created yet. Writes go
// to the target; the links stay links.
func TestSymlinkedState(t *testing.T) {
	tests := []struct {
		name string
		// link makes a link in dir and returns the path to open through it
		// and the real state path it leads to.
		link func(t *testing.T, dir string) (via, real string)
	}{
		{name: "link to the state file", link: func(t *testing.T, dir string) (string, string) {
			real := filepath.Join(dir, "real", "host.json")
			openTestHost(t, real).Close()
			return symlink(t, real, filepath.Join(dir, "link.json")), real
		}},
		{name: "relative link to the state file", link: func(t *testing.T, dir string) (string, string) {
			real := filepath.Join(dir, "real", "host.json")
			openTestHost(t, real).Close()
			return symlink(t, filepath.Join("real", "host.json"), filepath.Join(dir, "link.json")), real
		}},
		{name: "link to its folder", link: func(t *testing.T, dir string) (string, string) {
			real := filepath.Join(dir, "real", "host.json")
			openTestHost(t, real).Close()
			return filepath.Join(symlink(t, filepath.Join(dir, "real"), filepath.Join(dir, "linkdir")), "host.json"), real
		}},
		{name: "link to a state not created yet", link: func(t *testing.T, dir string) (string, string) {
			real := filepath.Join(dir, "real", "new", "host.json")
			return symlink(t, real, filepath.Join(dir, "link.json")), real
		}},
		{name: "chain of links", link: func(t *testing.T, dir string) (string, string) {
			real := filepath.Join(dir, "real", "host.json")
			openTestHost(t, real).Close()
			first := symlink(t, real, filepath.Join(dir, "first.json"))
			return symlink(t, first, filepath.Join(dir, "second.json")), real
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			via, real := tt.link(t, dir)
			linked := openTestHost(t, via)
			if linked.Path() != real {
				t.Fatalf("Path() through %s = %s, want %s", via, linked.Path(), real)
			}
			// One lock: held through the link, the real path's is taken.
			holdLock(t, linked)
			if ok, err := flock.New(real + ".lock").TryLock(); err != nil || ok {
				t.Errorf("the lock of %s was free while held through %s (%v)", real, via, err)
			}
			releaseLock(t, linked.Path())

			// Writes through the link land in the target, even a compaction.
			mustCreate(t, t.Context(), linked, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
			compactNow(t, linked)
			direct := openTestHost(t, real)
			if systems, err := direct.List(t.Context()); err != nil || !slices.Equal(ids(systems), []string{managedID("web")}) {
				t.Errorf("through the real path: List = %v, %v; want web", ids(systems), err)
			}
			for _, name := range []string{"link.json", "linkdir", "first.json", "second.json"} {
				if info, err := os.Lstat(filepath.Join(dir, name)); err == nil && info.Mode()&os.ModeSymlink == 0 {
					t.Errorf("%s is no longer a symlink after writes through it", name)
				}
			}
		})
	}
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	return link
}
