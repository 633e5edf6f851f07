package source

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

// folderTestDebounce keeps the watch tests fast.
const folderTestDebounce = 20 * time.Millisecond

// folderRun is a FolderSource running in the background of a test.
type folderRun struct {
	t        *testing.T
	dir      string
	src      *FolderSource
	notified chan struct{}
	calls    atomic.Int64 // notifies sent to notified
}

// startFolderRun starts Run on dir and waits for its first notify. Rescan
// defaults to an hour, so that what the tests see comes from events. The
// test fails if Run does not return nil promptly at cleanup.
func startFolderRun(t *testing.T, dir string, opts FolderOptions) *folderRun {
	t.Helper()
	opts.Dir = dir
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	if opts.Debounce == 0 {
		opts.Debounce = folderTestDebounce
	}
	if opts.Rescan == 0 {
		opts.Rescan = time.Hour
	}
	src, err := NewFolderSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &folderRun{t: t, dir: dir, src: src, notified: make(chan struct{}, 100_000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, r.notify) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-testfixture.Within(t):
			t.Errorf("Run did not return after cancel")
		}
	})
	if !r.waitNotify(testfixture.Patience(r.t)) {
		t.Fatal("no notify when ready")
	}
	return r
}

func (r *folderRun) notify() {
	r.notified <- struct{}{}
	r.calls.Add(1)
}

// waitNotify reports whether notify was called within d.
func (r *folderRun) waitNotify(d time.Duration) bool {
	select {
	case <-r.notified:
		return true
	case <-time.After(d):
		return false
	}
}

// drain forgets the notifies received so far and returns their number.
func (r *folderRun) drain() int {
	n := 0
	for {
		select {
		case <-r.notified:
			n++
		default:
			return n
		}
	}
}

// waitDesired waits, notify after notify, until a Snapshot shows want.
func (r *folderRun) waitDesired(want map[string]spec.Isolation) spec.Set {
	r.t.Helper()
	giveUp := time.Now().Add(testfixture.Patience(r.t))
	var got map[string]spec.Isolation
	for time.Now().Before(giveUp) {
		if !r.waitNotify(time.Until(giveUp)) {
			break
		}
		s := folderSnap(r.t, r.src)
		if got = folderDesired(s); maps.Equal(got, want) {
			return s
		}
	}
	r.t.Fatalf("desired set = %v, want %v (stats %+v)", got, want, r.src.Stats())
	return spec.Set{}
}

// quiet asserts that nothing notifies for a while (ten debounce periods).
func (r *folderRun) quiet(what string) {
	r.t.Helper()
	if r.waitNotify(10 * folderTestDebounce) {
		r.t.Errorf("%s: notified, want no notify (stats %+v)", what, r.src.Stats())
	}
}

// folderStep is one thing a user or a tool does to the folder, and the desired
// set the agent must then see.
type folderStep struct {
	do   func(t *testing.T, dir, stage string)
	want map[string]spec.Isolation
}

// folderShellTools are the system's own copy and move commands, as a user
// types them: cp and mv on Unix, cmd's copy and move on Windows.
var folderShellTools = map[string][]string{"cp": {"cp"}, "mv": {"mv"}}

func init() {
	if runtime.GOOS == "windows" {
		folderShellTools = map[string][]string{"cp": {"cmd", "/c", "copy", "/y"}, "mv": {"cmd", "/c", "move", "/y"}}
	}
}

// folderExec runs the system's tool (cp or mv) on args.
func folderExec(t *testing.T, tool string, args ...string) {
	t.Helper()
	argv := append(slices.Clone(folderShellTools[tool]), args...)
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

func folderRename(t testing.TB, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func folderRemove(t testing.TB, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

var (
	folderWebProcess = map[string]spec.Isolation{"web": spec.IsolationProcess}
	folderWebHyperV  = map[string]spec.Isolation{"web": spec.IsolationHyperV}
	folderNone       = map[string]spec.Isolation{}
)

// TestFolderRunWriteStyles: every way editors and tools write files ends in
// a notify and a Snapshot that shows the result.
func TestFolderRunWriteStyles(t *testing.T) {
	web := func(iso spec.Isolation) string { return manifest("web", string(iso)) }
	tests := []struct {
		name   string
		before map[string]string
		steps  []folderStep
	}{
		{
			name:   "write in place",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do:   func(t *testing.T, dir, _ string) { folderWrite(t, dir, "web.yaml", web("hyperv")) },
				want: folderWebHyperV,
			}},
		},
		{
			name:   "vim: swap file, 4913 probe, backup rename, write new",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do: func(t *testing.T, dir, _ string) {
					folderWrite(t, dir, ".web.yaml.swp", "b0VIM 9.0")
					folderWrite(t, dir, "4913", "")
					folderRemove(t, filepath.Join(dir, "4913"))
					folderRename(t, filepath.Join(dir, "web.yaml"), filepath.Join(dir, "web.yaml~"))
					folderWrite(t, dir, "web.yaml", web("hyperv"))
					folderRemove(t, filepath.Join(dir, "web.yaml~"))
					folderRemove(t, filepath.Join(dir, ".web.yaml.swp"))
				},
				want: folderWebHyperV,
			}},
		},
		{
			name:   "emacs: autosave, backup rename, write new",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do: func(t *testing.T, dir, _ string) {
					folderWrite(t, dir, "#web.yaml#", web("hyperv"))
					folderRename(t, filepath.Join(dir, "web.yaml"), filepath.Join(dir, "web.yaml~"))
					folderWrite(t, dir, "web.yaml", web("hyperv"))
					folderRemove(t, filepath.Join(dir, "#web.yaml#"))
				},
				want: folderWebHyperV,
			}},
		},
		{
			name:   "atomic save: x.yaml.tmp renamed over (VS Code, kubectl)",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do: func(t *testing.T, dir, _ string) {
					folderWrite(t, dir, "web.yaml.tmp", web("hyperv"))
					folderRename(t, filepath.Join(dir, "web.yaml.tmp"), filepath.Join(dir, "web.yaml"))
				},
				want: folderWebHyperV,
			}},
		},
		{
			name:   "atomic save: dotfile temp renamed over (renameio)",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do: func(t *testing.T, dir, _ string) {
					folderWrite(t, dir, ".web.yaml4188025619", web("hyperv"))
					folderRename(t, filepath.Join(dir, ".web.yaml4188025619"), filepath.Join(dir, "web.yaml"))
				},
				want: folderWebHyperV,
			}},
		},
		{
			name:   "cp over",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do: func(t *testing.T, dir, stage string) {
					folderWrite(t, stage, "web.yaml", web("hyperv"))
					folderExec(t, "cp", filepath.Join(stage, "web.yaml"), filepath.Join(dir, "web.yaml"))
				},
				want: folderWebHyperV,
			}},
		},
		{
			name: "mv in, then mv out",
			steps: []folderStep{
				{
					do: func(t *testing.T, dir, stage string) {
						folderWrite(t, stage, "web.yaml", web("process"))
						folderExec(t, "mv", filepath.Join(stage, "web.yaml"), filepath.Join(dir, "web.yaml"))
					},
					want: folderWebProcess,
				},
				{
					do: func(t *testing.T, dir, stage string) {
						folderExec(t, "mv", filepath.Join(dir, "web.yaml"), filepath.Join(stage, "web.yaml"))
					},
					want: folderNone,
				},
			},
		},
		{
			name:   "delete, then recreate",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{
				{do: func(t *testing.T, dir, _ string) { folderRemove(t, filepath.Join(dir, "web.yaml")) }, want: folderNone},
				{do: func(t *testing.T, dir, _ string) { folderWrite(t, dir, "web.yaml", web("hyperv")) }, want: folderWebHyperV},
			},
		},
		{
			name:   "delete and recreate at once",
			before: map[string]string{"web.yaml": web("process")},
			steps: []folderStep{{
				do: func(t *testing.T, dir, _ string) {
					folderRemove(t, filepath.Join(dir, "web.yaml"))
					folderWrite(t, dir, "web.yaml", web("hyperv"))
				},
				want: folderWebHyperV,
			}},
		},
		{
			name: "new nested subfolders with files, then an edit inside",
			steps: []folderStep{
				{
					do: func(t *testing.T, dir, _ string) {
						folderWrite(t, dir, "a/b/c/web.yaml", web("process"))
						folderWrite(t, dir, "a/db.yaml", manifest("db", string("process")))
					},
					want: map[string]spec.Isolation{"web": "process", "db": "process"},
				},
				{
					do:   func(t *testing.T, dir, _ string) { folderWrite(t, dir, "a/b/c/web.yaml", web("hyperv")) },
					want: map[string]spec.Isolation{"web": "hyperv", "db": "process"},
				},
			},
		},
		{
			name: "folder moved in, edited inside, renamed, moved out",
			steps: []folderStep{
				{
					do: func(t *testing.T, dir, stage string) {
						folderWrite(t, stage, "team/web.yaml", web("process"))
						folderWrite(t, stage, "team/deep/db.yaml", manifest("db", string("process")))
						folderRename(t, filepath.Join(stage, "team"), filepath.Join(dir, "team"))
					},
					want: map[string]spec.Isolation{"web": "process", "db": "process"},
				},
				{
					do: func(t *testing.T, dir, _ string) {
						folderWrite(t, dir, "team/deep/db.yaml", manifest("db", string("hyperv")))
					},
					want: map[string]spec.Isolation{"web": "process", "db": "hyperv"},
				},
				{
					do: func(t *testing.T, dir, _ string) {
						folderRename(t, filepath.Join(dir, "team"), filepath.Join(dir, "squad"))
						folderWrite(t, dir, "squad/deep/q.yaml", manifest("queue", string("process")))
					},
					want: map[string]spec.Isolation{"web": "process", "db": "hyperv", "queue": "process"},
				},
				{
					do: func(t *testing.T, dir, stage string) {
						folderRename(t, filepath.Join(dir, "squad"), filepath.Join(stage, "squad"))
					},
					want: folderNone,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, stage := t.TempDir(), t.TempDir()
			folderWriteAll(t, dir, tt.before)
			r := startFolderRun(t, dir, FolderOptions{})
			folderSnap(t, r.src)
			for _, st := range tt.steps {
				events := r.src.Stats().Events
				st.do(t, dir, stage)
				r.waitDesired(st.want)
				if got := r.src.Stats().Events; got == events {
					t.Errorf("no fsnotify event counted for this step")
				}
			}
		})
	}
}

// TestFolderRunIgnoresLeftovers: ignored names and non-manifests never
// notify, whatever is done to them.
func TestFolderRunIgnoresLeftovers(t *testing.T) {
	dir := t.TempDir()
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	r := startFolderRun(t, dir, FolderOptions{})
	for _, name := range []string{".web.yaml.swp", "4913", "web.yaml~", "#web.yaml#", "web.yaml.tmp", ".hidden.yaml", "README.md"} {
		folderWrite(t, dir, name, manifest("x", string(spec.IsolationHyperV)))
		folderRename(t, filepath.Join(dir, name), filepath.Join(dir, name+".2"))
		folderRemove(t, filepath.Join(dir, name+".2"))
	}
	folderWrite(t, dir, ".git/objects/web.yaml", manifest("x", string(spec.IsolationHyperV)))
	folderWrite(t, dir, ".git/HEAD", "ref: refs/heads/main")
	r.quiet("leftovers")
	if got := r.src.Stats().Events; got != 0 {
		t.Errorf("events = %d, want 0", got)
	}
}

// TestFolderRunBurst: 200 files dropped at once give a handful of notifies
// and one Snapshot with all 200.
func TestFolderRunBurst(t *testing.T) {
	const n = 200
	dir, stage := t.TempDir(), t.TempDir()
	r := startFolderRun(t, dir, FolderOptions{Debounce: 50 * time.Millisecond})
	for i := range n {
		folderWrite(t, stage, fmt.Sprintf("c%03d.yaml", i), manifest(fmt.Sprintf("c%03d", i), "process"))
	}
	want := make(map[string]spec.Isolation, n)
	for i := range n {
		name := fmt.Sprintf("c%03d.yaml", i)
		folderRename(t, filepath.Join(stage, name), filepath.Join(dir, name))
		want[name[:4]] = spec.IsolationProcess
	}
	s := r.waitDesired(want)
	if len(s.Errors) != 0 {
		t.Errorf("errors: %v", s.Errors)
	}
	// The Snapshot may show all 200 before Run has had every event; once it
	// has, and has notified, nothing more comes.
	if !testfixture.Eventually(t, func() bool {
		st := r.src.Stats()
		return st.Events >= n && !r.src.pending.Load() && r.calls.Load() == st.Notifies
	}) {
		t.Fatalf("the burst's events were never all handled (stats %+v)", r.src.Stats())
	}
	r.drain()
	r.quiet("after the burst")
	if got := r.src.Stats().Notifies; got > 4 { // 1 when ready + a few
		t.Errorf("notifies = %d for %d files, want a few", got, n)
	}
	if got := r.src.Stats().Parses; got != n {
		t.Errorf("parses = %d, want %d", got, n)
	}
}

// TestFolderRunFolderVanishes: removing the folder notifies and holds
// removals; recreating it is noticed (within the one-second poll) and the
// new folder is watched. No periodic rescan runs meanwhile, so what is seen
// comes from events and the poll.
func TestFolderRunFolderVanishes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "manifests")
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	folderWrite(t, dir, "sub/db.yaml", manifest("db", string(spec.IsolationProcess)))
	logger, logs := testLogs(t)
	r := startFolderRun(t, dir, FolderOptions{Logger: logger})
	both := map[string]spec.Isolation{"web": "process", "db": "process"}
	if got := folderDesired(folderSnap(t, r.src)); !maps.Equal(got, both) {
		t.Fatalf("desired = %v", got)
	}

	folderRemove(t, dir)
	s := r.waitDesired(both)
	if !s.HoldRemovals || !strings.Contains(s.HoldReason, dir) {
		t.Errorf("HoldRemovals = %v, HoldReason = %q, want a hold naming the folder", s.HoldRemovals, s.HoldReason)
	}

	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationHyperV)))
	// A late notify of the removal's events may come first; the folder is
	// watched again once the poll says so.
	if !testfixture.Eventually(t, func() bool { return logs.FilterMessage("folder is back, watching it again").Len() > 0 }) {
		t.Fatal("the recreated folder was never found")
	}
	s = r.waitDesired(folderWebHyperV)
	if s.HoldRemovals {
		t.Errorf("still holding removals: %q", s.HoldReason)
	}

	events := r.src.Stats().Events
	folderWrite(t, dir, "new/q.yaml", manifest("queue", string(spec.IsolationProcess)))
	r.waitDesired(map[string]spec.Isolation{"web": "hyperv", "queue": "process"})
	if r.src.Stats().Events == events {
		t.Errorf("the recreated folder is not watched: no event counted")
	}
}

// TestFolderRunPeriodicRescan: the rescan notifies without any event.
func TestFolderRunPeriodicRescan(t *testing.T) {
	r := startFolderRun(t, t.TempDir(), FolderOptions{Rescan: 30 * time.Millisecond})
	for i := range 3 {
		if !r.waitNotify(testfixture.Patience(r.t)) {
			t.Fatalf("rescan %d did not notify", i)
		}
	}
	st := r.src.Stats()
	if st.Rescans < 3 || st.Events != 0 {
		t.Errorf("stats = %+v, want ≥ 3 rescans and no events", st)
	}
}

// TestFolderRunOverflow overflows the real inotify queue (notify blocks
// while more events are made than the kernel queues) and expects a rescan
// (which notifies as it ends).
func TestFolderRunOverflow(t *testing.T) {
	raw, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip("no inotify queue to overflow:", err)
	}
	var queued int
	if _, err := fmt.Sscan(string(raw), &queued); err != nil || queued > 1<<16 {
		t.Skipf("an inotify queue of %q events is too long to overflow quickly", raw)
	}
	dir := t.TempDir()
	src, err := NewFolderSource(FolderOptions{Dir: dir, Debounce: folderTestDebounce, Rescan: time.Hour, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var blocking atomic.Bool
	gate := make(chan struct{})
	notified := make(chan struct{}, 100)
	notify := func() {
		// Decided before the test can see this notify: the one it waits
		// for before it sets blocking must not block.
		block := blocking.Load()
		notified <- struct{}{}
		if block {
			<-gate
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, notify) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	wait := func(what string) {
		t.Helper()
		select {
		case <-notified:
		case <-testfixture.Within(t):
			close(gate)
			t.Fatalf("no notify %s (stats %+v)", what, src.Stats())
		}
	}
	wait("when ready")

	blocking.Store(true)
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	wait("after a change") // Run is now stuck in notify

	// Each rename queues two events, and nothing reads them: the kernel
	// keeps `queued`, fsnotify's reader holds one read buffer (at most 4096
	// events) while it waits to hand one over. So the queue overflows for
	// certain, however slow the machine.
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	folderWrite(t, dir, "a", "")
	for range (queued+4096)/4 + 1000 { // four events a round
		folderRename(t, a, b)
		folderRename(t, b, a)
	}
	blocking.Store(false)
	close(gate)
	// The events read before the overflow may notify first (debounced); the
	// overflow's rescan notifies once the reader gets to it.
	giveUp := testfixture.Within(t)
	st := src.Stats()
	for ; st.Overflows == 0 || st.Rescans == 0; st = src.Stats() {
		select {
		case <-notified:
		case <-giveUp:
			t.Fatalf("stats = %+v, want an overflow and a rescan", st)
		}
	}
	// Events were lost: the cache is not trusted, web.yaml (the one
	// manifest) is read again, though its stat did not change.
	snap, err := src.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := src.Stats()
	if after.Scans != st.Scans+1 || after.Reads != st.Reads+1 {
		t.Errorf("snapshot after the overflow: %d walks, %d reads, want 1 and 1", after.Scans-st.Scans, after.Reads-st.Reads)
	}
	if got := folderDesired(snap); !maps.Equal(got, folderWebProcess) {
		t.Errorf("desired = %v, want %v", got, folderWebProcess)
	}
}

// TestFolderRunReadsOnlyNamedFiles: while Run watches, a Snapshot after an
// edit reads the edited file alone, without walking the folder; a periodic
// rescan walks it again.
func TestFolderRunReadsOnlyNamedFiles(t *testing.T) {
	const n = 100
	dir, stage := t.TempDir(), t.TempDir()
	want := make(map[string]spec.Isolation, n)
	for i := range n {
		name := fmt.Sprintf("c%03d", i)
		folderWrite(t, dir, fmt.Sprintf("team%d/%s.yaml", i%5, name), manifest(name, "process"))
		want[name] = spec.IsolationProcess
	}
	folderAge(t, dir)
	r := startFolderRun(t, dir, FolderOptions{})
	if got := folderDesired(folderSnap(t, r.src)); !maps.Equal(got, want) {
		t.Fatalf("first snapshot: %d containers, want %d", len(got), n)
	}
	first := r.src.Stats()
	if first.Scans != 1 || first.Reads != n {
		t.Fatalf("first snapshot: stats %+v, want one walk and %d reads", first, n)
	}

	folderWrite(t, stage, "c042.yaml", manifest("c042", "hyperv"))
	folderRename(t, filepath.Join(stage, "c042.yaml"), filepath.Join(dir, "team2", "c042.yaml"))
	want["c042"] = spec.IsolationHyperV
	r.waitDesired(want)
	st := r.src.Stats()
	if st.Scans != first.Scans || st.Incremental == 0 {
		t.Errorf("stats %+v: want no walk since the first, and incremental snapshots", st)
	}
	if reads := st.Reads - first.Reads; reads < 1 || reads > st.Incremental || st.Parses-first.Parses != 1 {
		t.Errorf("reads %d, parses %d after the edit, want at most one read per snapshot and one parse", reads, st.Parses-first.Parses)
	}
}

// TestFolderRunSettle: a burst that is one manifest renamed in waits
// Settle; a file written in place, or created then written, waits the
// full Debounce (an hour here: it never notifies during the test). Settle
// is long enough that the second event of a write is seen before it ends,
// even on a busy machine.
func TestFolderRunSettle(t *testing.T) {
	const settle = 100 * time.Millisecond
	dir, stage := t.TempDir(), t.TempDir()
	folderWrite(t, dir, "web.yaml", manifest("web", "process"))
	r := startFolderRun(t, dir, FolderOptions{Debounce: time.Hour, Settle: settle})
	folderWrite(t, stage, "db.yaml", manifest("db", "process"))
	folderRename(t, filepath.Join(stage, "db.yaml"), filepath.Join(dir, "db.yaml"))
	r.waitDesired(map[string]spec.Isolation{"web": "process", "db": "process"})

	folderWrite(t, dir, "web.yaml", manifest("web", "hyperv"))
	if r.waitNotify(5 * settle) {
		t.Errorf("a write in place notified before the debounce")
	}
	folderWrite(t, dir, "queue.yaml", manifest("queue", "process"))
	if r.waitNotify(5 * settle) {
		t.Errorf("a file created then written notified before the debounce")
	}
	if !r.src.pending.Load() {
		t.Errorf("the unnotified changes do not hold removals")
	}
}

// TestFolderRunTwice: a second concurrent Run is refused.
func TestFolderRunTwice(t *testing.T) {
	r := startFolderRun(t, t.TempDir(), FolderOptions{})
	if err := r.src.Run(context.Background(), func() {}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run = %v, want already running", err)
	}
}

// TestFolderRunSymlinkedFolder: a folder named through a symbolic link is
// read and watched at its target.
func TestFolderRunSymlinkedFolder(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "releases", "v1")
	folderWrite(t, target, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	link := filepath.Join(parent, "current")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	r := startFolderRun(t, link, FolderOptions{})
	if want := "dir " + link; r.src.String() != want {
		t.Errorf("String() = %q, want %q", r.src.String(), want)
	}
	if got := folderDesired(folderSnap(t, r.src)); !maps.Equal(got, folderWebProcess) {
		t.Fatalf("desired = %v, want %v", got, folderWebProcess)
	}
	folderWrite(t, link, "web.yaml", manifest("web", string(spec.IsolationHyperV)))
	r.waitDesired(folderWebHyperV)
}
