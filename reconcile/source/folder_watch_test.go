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

	"github.com/reconciler/reconciler/spec"
)

// folderWaitLimit bounds every wait of these tests; they normally take a few
// debounce periods.
const folderWaitLimit = 5 * time.Second

// folderTestDebounce keeps the watch tests fast.
const folderTestDebounce = 20 * time.Millisecond

// folderRun is a FolderSource running in the background of a test.
type folderRun struct {
	t        *testing.T
	dir      string
	src      *FolderSource
	notified chan struct{}
}

// startFolderRun starts Run on dir and waits for its first notify. Rescan
// defaults to an hour, so that what the tests see comes from events. The
// test fails if Run does not return nil promptly at cleanup.
func startFolderRun(t *testing.T, dir string, opts FolderOptions) *folderRun {
	t.Helper()
	opts.Dir = dir
	opts.Logger = zaptest.NewLogger(t)
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
		case <-time.After(folderWaitLimit):
			t.Errorf("Run did not return after cancel")
		}
	})
	if !r.waitNotify(folderWaitLimit) {
		t.Fatal("no notify when ready")
	}
	return r
}

func (r *folderRun) notify() { r.notified <- struct{}{} }

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
	deadline := time.Now().Add(folderWaitLimit)
	var got map[string]spec.Isolation
	for time.Now().Before(deadline) {
		if !r.waitNotify(time.Until(deadline)) {
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
	r := startFolderRun(t, dir, FolderOptions{})
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
		if !r.waitNotify(folderWaitLimit) {
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
// and a notify at once.
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
		notified <- struct{}{}
		if blocking.Load() {
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
		case <-time.After(folderWaitLimit):
			close(gate)
			t.Fatalf("no notify %s (stats %+v)", what, src.Stats())
		}
	}
	wait("when ready")

	blocking.Store(true)
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	wait("after a change") // Run is now stuck in notify

	// Each rename queues two events; fsnotify buffers 4096 more.
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	folderWrite(t, dir, "a", "")
	for range (queued+4096)/4 + 1000 { // four events a round
		folderRename(t, a, b)
		folderRename(t, b, a)
	}
	blocking.Store(false)
	close(gate)
	wait("after the overflow")
	st := src.Stats()
	if st.Overflows == 0 || st.Rescans == 0 {
		t.Errorf("stats = %+v, want an overflow and a rescan", st)
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
