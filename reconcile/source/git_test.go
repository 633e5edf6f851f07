package source

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

// gitStep is one push to the remote and what the source must make of it.
type gitStep struct {
	name  string
	files map[string]string // "" deletes
	// want: containers as "name=isolation"; wantRev: index of the step
	// whose commit is in force; wantErrFile: the file the errors name ("" =
	// no errors); wantHeld: files held at the commit of step index.
	want        []string
	wantRev     int
	wantErrFile string
	wantHeld    map[string]int
}

func TestGitSourceFollowsCommits(t *testing.T) {
	t.Parallel()
	steps := func(atomic bool) []gitStep {
		pick := func(perFile, whole []string) []string {
			if atomic {
				return whole
			}
			return perFile
		}
		brokenRev, held := 4, map[string]int{"web.yaml": 3}
		if atomic {
			brokenRev, held = 3, nil
		}
		return []gitStep{
			{name: "first commit applied", files: map[string]string{"web.yaml": manifest("web", "process"), "db.yaml": manifest("db", "hyperv")},
				want: []string{"db=hyperv", "web=process"}, wantRev: 0},
			{name: "isolation flipped", files: map[string]string{"web.yaml": manifest("web", "hyperv")},
				want: []string{"db=hyperv", "web=hyperv"}, wantRev: 1},
			{name: "unrelated file and ignored files", files: map[string]string{"README.md": "# hi", ".github/ci.yaml": "on: push", "web.yaml~": "junk"},
				want: []string{"db=hyperv", "web=hyperv"}, wantRev: 2},
			{name: "manifest deleted", files: map[string]string{"db.yaml": ""},
				want: []string{"web=hyperv"}, wantRev: 3},
			{name: "broken file held, rest applied", files: map[string]string{"web.yaml": brokenManifest("web"), "api.yaml": manifest("api", "process")},
				want: pick([]string{"api=process", "web=hyperv"}, []string{"web=hyperv"}), wantRev: brokenRev, wantErrFile: "web.yaml", wantHeld: held},
			{name: "fixing commit applied", files: map[string]string{"web.yaml": manifest("web", "process")},
				want: []string{"api=process", "web=process"}, wantRev: 5},
		}
	}
	for _, mode := range []struct {
		name   string
		atomic bool
	}{{"per-file", false}, {"atomic", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			g := newTestSource(t, GitOptions{URL: r.Bare, Atomic: mode.atomic})
			var commits []string
			for _, st := range steps(mode.atomic) {
				commits = append(commits, r.Publish(st.files, nil))
				if !pollOK(t, g) {
					t.Fatalf("%s: poll of a new commit reported no change", st.name)
				}
				if got := desired(t, g); !slices.Equal(got, st.want) {
					t.Errorf("%s: containers = %v, want %v", st.name, got, st.want)
				}
				snap, _ := g.Snapshot(context.Background())
				if snap.Revision != commits[st.wantRev] {
					t.Errorf("%s: revision = %s, want %s (step %d)", st.name, snap.Revision, commits[st.wantRev], st.wantRev)
				}
				if snap.HoldRemovals {
					t.Errorf("%s: removals held (%s) after a commit", st.name, snap.HoldReason)
				}
				checkErrors(t, st.name, snap.Errors, st.wantErrFile, commits[len(commits)-1])
				status := g.Status()
				if status.Newest != commits[len(commits)-1] || status.Commit != snap.Revision {
					t.Errorf("%s: status commit %s newest %s, want %s and %s", st.name, status.Commit, status.Newest, snap.Revision, commits[len(commits)-1])
				}
				wantHeld := map[string]string{}
				for f, i := range st.wantHeld {
					wantHeld[f] = commits[i]
				}
				if !mapsEqual(status.HeldFiles, wantHeld) {
					t.Errorf("%s: held files = %v, want %v", st.name, status.HeldFiles, wantHeld)
				}
			}
		})
	}
}

// checkErrors asserts that errs is empty when file is "", else that every
// error names file with a line and the commit.
func checkErrors(t *testing.T, step string, errs []spec.Problem, file, commit string) {
	t.Helper()
	if file == "" {
		if len(errs) > 0 {
			t.Errorf("%s: unexpected errors:\n%s", step, problemText(errs))
		}
		return
	}
	if len(errs) == 0 {
		t.Errorf("%s: no error reported, want one on %s", step, file)
	}
	for _, e := range errs {
		if e.File != file || e.Line == 0 || !strings.HasPrefix(e.Message, "commit "+commit[:7]+": ") {
			t.Errorf("%s: error %q does not name %s:line and commit %s", step, e.Error(), file, commit[:7])
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestGitSourceBeforeFirstCommit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		atomic     bool
		files      map[string]string // nil: nothing pushed
		wantHold   bool
		wantErrors bool
	}{
		{name: "not fetched yet", wantHold: true},
		{name: "first commit invalid, atomic", atomic: true, files: map[string]string{"web.yaml": brokenManifest("web")}, wantHold: true, wantErrors: true},
		{name: "first commit invalid, per file", files: map[string]string{"web.yaml": brokenManifest("web")}, wantHold: false, wantErrors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			g := newTestSource(t, GitOptions{URL: r.Bare, Atomic: tt.atomic})
			if tt.files != nil {
				r.Publish(tt.files, nil)
				pollOK(t, g)
			}
			snap, _ := g.Snapshot(context.Background())
			if len(snap.Containers) != 0 {
				t.Errorf("containers = %v, want none", snap.Containers)
			}
			if snap.HoldRemovals != tt.wantHold || (tt.wantHold && snap.HoldReason == "") {
				t.Errorf("hold = %v (%q), want %v with a reason", snap.HoldRemovals, snap.HoldReason, tt.wantHold)
			}
			if (len(snap.Errors) > 0) != tt.wantErrors {
				t.Errorf("errors = %v, want some: %v", snap.Errors, tt.wantErrors)
			}
		})
	}
}

func TestGitSourceFileRules(t *testing.T) {
	t.Parallel()
	big := "# " + strings.Repeat("x", spec.MaxFileSize) + "\n"
	tests := []struct {
		name      string
		path      string
		files     map[string]string
		symlink   string // a manifest-named symlink to add
		want      []string
		wantErr   string // substring of an error, "" = none
		wantWarn  string
		wantError error // from the commit as a whole (no such path)
	}{
		{name: "recursive, ignoring dot dirs and leftovers", files: map[string]string{
			"a/b/web.yaml": manifest("web", "process"), "a/db.yml": manifest("db", "hyperv"),
			".hidden/x.yaml": manifest("x", "process"), "a/.y.yaml": manifest("y", "process"), "a/web.yaml.swp": "junk", "notes.txt": "x"},
			want: []string{"db=hyperv", "web=process"}},
		{name: "sub-folder only", path: "hosts/a", files: map[string]string{
			"hosts/a/web.yaml": manifest("web", "process"), "hosts/b/db.yaml": manifest("db", "hyperv"), "top.yaml": manifest("top", "process")},
			want: []string{"web=process"}},
		{name: "missing sub-folder is an error, nothing applied", path: "hosts/c", files: map[string]string{"hosts/a/web.yaml": manifest("web", "process")},
			wantErr: "no such folder"},
		{name: "oversized file", files: map[string]string{"big.yaml": big, "web.yaml": manifest("web", "process")},
			want: []string{"web=process"}, wantErr: "limit"},
		{name: "duplicate names across files", files: map[string]string{"a.yaml": manifest("web", "process"), "b.yaml": manifest("web", "hyperv")},
			want: nil, wantErr: "declared 2 times"},
		{name: "symlink not followed, an error", files: map[string]string{"web.yaml": manifest("web", "process")}, symlink: "link.yaml",
			want: []string{"web=process"}, wantErr: "link.yaml: commit"},
		{name: "empty file declares nothing", files: map[string]string{"web.yaml": manifest("web", "process"), "empty.yaml": "# nothing yet\n"},
			want: []string{"web=process"}, wantWarn: "declares nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			r.Write(tt.files)
			if tt.symlink != "" {
				if err := os.Symlink("web.yaml", r.Work+"/"+tt.symlink); err != nil {
					t.Fatal(err)
				}
			}
			r.Publish(nil, nil)
			g := newTestSource(t, GitOptions{URL: r.Bare, Path: tt.path})
			pollOK(t, g)
			snap, _ := g.Snapshot(context.Background())
			if got := desired(t, g); !slices.Equal(got, tt.want) {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
			if errs := problemText(snap.Errors); (tt.wantErr == "") != (errs == "") || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("errors = %q, want one containing %q", errs, tt.wantErr)
			}
			if warns := problemText(snap.Warnings); !strings.Contains(warns, tt.wantWarn) {
				t.Errorf("warnings = %q, want one containing %q", warns, tt.wantWarn)
			}
		})
	}
}

func TestGitSourceRefPinning(t *testing.T) {
	tests := []struct {
		name string
		// ref returns the Ref option given the two commits pushed, after
		// the test made tags v1 (lightweight, first commit) and v1a
		// (annotated, first commit) and branch other (first commit).
		ref      func(first, second string) string
		wantRev  int // 0 first, 1 second
		want     []string
		wantList bool // the remote is asked for the ref's head on each poll
	}{
		{name: "default branch", ref: func(string, string) string { return "" }, wantRev: 1, want: []string{"web=hyperv"}, wantList: true},
		{name: "branch", ref: func(string, string) string { return "main" }, wantRev: 1, want: []string{"web=hyperv"}, wantList: true},
		{name: "other branch", ref: func(string, string) string { return "other" }, wantRev: 0, want: []string{"web=process"}, wantList: true},
		{name: "full ref name", ref: func(string, string) string { return "refs/heads/other" }, wantRev: 0, want: []string{"web=process"}, wantList: true},
		{name: "lightweight tag", ref: func(string, string) string { return "v1" }, wantRev: 0, want: []string{"web=process"}, wantList: true},
		{name: "annotated tag", ref: func(string, string) string { return "v1a" }, wantRev: 0, want: []string{"web=process"}, wantList: true},
		{name: "full commit id", ref: func(first, _ string) string { return first }, wantRev: 0, want: []string{"web=process"}},
	}
	t.Parallel()
	r := testfixture.NewRemote(t)
	first := r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
	r.Git("tag", "v1")
	r.Git("tag", "-a", "-m", "release", "v1a")
	r.Git("push", "-q", "origin", "v1", "v1a", "HEAD:refs/heads/other")
	second := r.Publish(map[string]string{"web.yaml": manifest("web", "hyperv")}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newTestSource(t, GitOptions{URL: r.Bare, Ref: tt.ref(first, second)})
			pollOK(t, g)
			snap, _ := g.Snapshot(context.Background())
			if want := []string{first, second}[tt.wantRev]; snap.Revision != want {
				t.Errorf("revision = %s, want %s", snap.Revision, want)
			}
			if got := desired(t, g); !slices.Equal(got, tt.want) {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
			lists, fetches := g.lists.Load(), g.fetches.Load()
			if pollOK(t, g) {
				t.Error("second poll of an unmoved ref reported a change")
			}
			if g.fetches.Load() != fetches {
				t.Error("second poll of an unmoved ref fetched")
			}
			if gotList := g.lists.Load() > lists; gotList != tt.wantList {
				t.Errorf("second poll asked the remote: %v, want %v", gotList, tt.wantList)
			}
		})
	}
}

func TestGitSourceSkipsUnchangedRemote(t *testing.T) {
	t.Parallel()
	r := testfixture.NewRemote(t)
	r.Publish(map[string]string{"web.yaml": manifest("web", "process"), "db.yaml": manifest("db", "process")}, nil)
	g := newTestSource(t, GitOptions{URL: r.Bare})
	pollOK(t, g)
	if g.fetches.Load() != 1 {
		t.Fatalf("fetches after the first poll = %d, want 1", g.fetches.Load())
	}
	for range 3 {
		if pollOK(t, g) {
			t.Error("poll of an unchanged remote reported a change")
		}
	}
	if g.fetches.Load() != 1 || g.lists.Load() != 4 {
		t.Errorf("after 3 polls of an unchanged remote: fetches %d (want 1), lists %d (want 4)", g.fetches.Load(), g.lists.Load())
	}
	r.Publish(map[string]string{"db.yaml": manifest("db", "hyperv")}, nil)
	ctx := context.Background()
	head, err := g.fetchHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	commit, err := g.repo.CommitObject(head)
	if err != nil {
		t.Fatal(err)
	}
	if res := g.view.apply(g.repo.Storer, commit, ""); res.parsed != 1 {
		t.Errorf("a commit changing one of two files parsed %d files, want 1", res.parsed)
	}
}

func TestGitSourceForcePush(t *testing.T) {
	t.Parallel()
	r := testfixture.NewRemote(t)
	base := r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
	r.Publish(map[string]string{"web.yaml": manifest("web", "hyperv")}, nil)
	logger, logs := testLogs(t)
	g := newTestSource(t, GitOptions{URL: r.Bare, Logger: logger})
	pollOK(t, g)

	r.Git("reset", "-q", "--hard", base)
	r.Write(map[string]string{"db.yaml": manifest("db", "process")})
	r.Git("add", "-A")
	r.Git("commit", "-q", "-m", "rewrite")
	r.Git("push", "-q", "--force", "origin", "HEAD:refs/heads/main")
	rewritten := r.Git("rev-parse", "HEAD")

	if !pollOK(t, g) {
		t.Fatal("force-push not seen")
	}
	snap, _ := g.Snapshot(context.Background())
	if snap.Revision != rewritten {
		t.Errorf("revision = %s, want the rewritten head %s", snap.Revision, rewritten)
	}
	if got, want := desired(t, g), []string{"db=process", "web=process"}; !slices.Equal(got, want) {
		t.Errorf("containers = %v, want %v", got, want)
	}
	if n := logs.FilterMessageSnippet("history rewritten").Len(); n != 1 {
		t.Errorf("history-rewritten warnings = %d, want 1", n)
	}
}

func TestGitSourceRemoteFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ref         string
		breakRemote func(t testing.TB, r *testfixture.Remote)
	}{
		{name: "remote deleted", breakRemote: func(t testing.TB, r *testfixture.Remote) {
			// In one step: a poll must not see a half-deleted repository.
			if err := os.Rename(r.Bare, r.Bare+".deleted"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "branch deleted", ref: "feature", breakRemote: func(t testing.TB, r *testfixture.Remote) { r.Git("push", "-q", "origin", "--delete", "feature") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			first := r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
			r.Git("push", "-q", "origin", "HEAD:refs/heads/feature")
			logger, logs := testLogs(t)
			cache := t.TempDir()
			g, err := NewGitSource(GitOptions{URL: r.Bare, Ref: tt.ref, Interval: 5 * time.Millisecond, CacheDir: cache, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			notified := make(chan struct{}, 16)
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx, func() { notified <- struct{}{} }) }()
			<-notified
			tt.breakRemote(t, r)
			// Let it fail a few times: backoff starts at the interval.
			broken := g.lists.Load()
			if !testfixture.Eventually(t, func() bool { return g.lists.Load() >= broken+5 }) {
				t.Errorf("%d lists of the broken remote, want at least 5", g.lists.Load()-broken)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v, want nil when ctx is done", err)
			}
			snap, _ := g.Snapshot(context.Background())
			if snap.Revision != first || len(snap.Containers) != 1 || len(snap.Errors) > 0 {
				t.Errorf("snapshot after the failure: revision %s, %d containers, errors %v; want the last good commit whole", snap.Revision, len(snap.Containers), snap.Errors)
			}
			if st := g.Status(); st.LastError == "" || st.Commit != first {
				t.Errorf("status = %+v, want the failure and the last good commit", st)
			}
			if n := logs.FilterMessageSnippet("git poll failed").Len(); n != 1 {
				t.Errorf("failure logged %d times at warn, want once", n)
			}
			if len(notified) != 0 {
				t.Errorf("notified %d times after the failure, want none", len(notified))
			}
		})
	}
}

func TestGitSourceReusesCacheDir(t *testing.T) {
	t.Parallel()
	trusted := testfixture.NewSigner(t, "trusted")
	keyring := writeFile(t, "keys.asc", testfixture.ArmoredPublicKeys(t, trusted))
	tests := []struct {
		name    string
		atomic  bool
		verify  bool
		second  map[string]string // nil: no second commit
		signed  bool              // second commit signed by the trusted key
		wantRev int               // 0 first, 1 second
		want    []string
		held    bool // web.yaml held at the first commit
	}{
		{name: "good head", wantRev: 0, want: []string{"db=hyperv", "web=process"}},
		{name: "broken head, per file", second: map[string]string{"web.yaml": brokenManifest("web")},
			wantRev: 1, want: []string{"db=hyperv", "web=process"}, held: true},
		{name: "broken head, atomic", atomic: true, second: map[string]string{"web.yaml": brokenManifest("web"), "db.yaml": ""},
			wantRev: 0, want: []string{"db=hyperv", "web=process"}},
		{name: "rejected head", verify: true, second: map[string]string{"db.yaml": ""},
			wantRev: 0, want: []string{"db=hyperv", "web=process"}},
		{name: "signed head", verify: true, signed: true, second: map[string]string{"db.yaml": ""},
			wantRev: 1, want: []string{"web=process"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			opts := GitOptions{URL: r.Bare, CacheDir: t.TempDir(), Atomic: tt.atomic}
			if tt.verify {
				opts.VerifySignaturesKeyring = keyring
			}
			opts.Logger, _ = testLogs(t)
			commits := []string{r.Publish(map[string]string{"web.yaml": manifest("web", "process"), "db.yaml": manifest("db", "hyperv")}, trusted)}
			g1, err := NewGitSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			unlock, err := g1.openCache()
			if err != nil {
				t.Fatal(err)
			}
			pollOK(t, g1)
			if tt.second != nil {
				var key *openpgp.Entity
				if tt.signed {
					key = trusted
				}
				commits = append(commits, r.Publish(tt.second, key))
				pollOK(t, g1)
			}
			if _, err := g1.openCache(); !errors.Is(err, ErrGitConfig) {
				t.Errorf("second user of a locked cache dir: %v, want ErrGitConfig", err)
			}
			before := g1.Status()
			unlock()

			// A restart: a new source on the same cache dir, before any
			// network call.
			g2 := newTestSource(t, opts)
			if !g2.applyCached(context.Background()) {
				t.Fatal("nothing restored from the cache dir")
			}
			snap, _ := g2.Snapshot(context.Background())
			if snap.Revision != commits[tt.wantRev] {
				t.Errorf("restored revision %s, want %s", snap.Revision, commits[tt.wantRev])
			}
			if got := desired(t, g2); !slices.Equal(got, tt.want) {
				t.Errorf("restored containers = %v, want %v", got, tt.want)
			}
			after := g2.Status()
			if after.Commit != before.Commit || !mapsEqual(after.HeldFiles, before.HeldFiles) || (len(after.HeldFiles) > 0) != tt.held {
				t.Errorf("restored status %+v, want as before the restart %+v", after, before)
			}
			if pollOK(t, g2) || g2.fetches.Load() != 0 {
				t.Errorf("restart re-fetched an unchanged remote (%d fetches)", g2.fetches.Load())
			}
		})
	}
}

func TestGitSourceRunAndTrigger(t *testing.T) {
	t.Parallel()
	r := testfixture.NewRemote(t)
	r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
	logger, _ := testLogs(t)
	g, err := NewGitSource(GitOptions{URL: r.Bare, Interval: time.Hour, CacheDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	notified := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, func() { notified <- struct{}{} }) }()
	waitNotified(t, notified, "first commit")
	if err := g.Run(ctx, func() {}); !errors.Is(err, ErrGitConfig) {
		t.Errorf("second Run = %v, want ErrGitConfig", err)
	}
	second := r.Publish(map[string]string{"web.yaml": manifest("web", "hyperv")}, nil)
	start := time.Now()
	g.Trigger()
	g.Trigger() // coalesced
	waitNotified(t, notified, "triggered poll")
	t.Logf("push to notify by trigger: %s", time.Since(start))
	if snap, _ := g.Snapshot(ctx); snap.Revision != second {
		t.Errorf("revision after trigger = %s, want %s", snap.Revision, second)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-testfixture.Within(t):
		t.Fatal("Run did not end when ctx was done")
	}
}

func waitNotified(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-testfixture.Within(t):
		t.Fatalf("no notify for %s", what)
	}
}

func TestGitSourceWithoutGitBinary(t *testing.T) {
	r := testfixture.NewRemote(t)
	first := r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
	t.Setenv("PATH", t.TempDir())
	useFileTransport(t, fileTransport{useGit: false}) // what InstallFileTransport picks without git
	g := newTestSource(t, GitOptions{URL: "file://" + r.Bare})
	pollOK(t, g)
	if snap, _ := g.Snapshot(context.Background()); snap.Revision != first || len(snap.Containers) != 1 {
		t.Errorf("without git: revision %s with %d containers, want %s with 1", snap.Revision, len(snap.Containers), first)
	}
	if pollOK(t, g) || g.fetches.Load() != 1 {
		t.Errorf("unchanged remote without git: fetches %d, want 1", g.fetches.Load())
	}
}

// TestGitSourceShallowHistory: the cache is cloned shallow (the head's
// objects only), yet a later head several commits ahead is not taken for a
// force-push, and a head rewritten onto an old commit is, with the content
// of the rewritten head complete either way.
func TestGitSourceShallowHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rewrite   bool
		warnings  int
		wantAfter []string
	}{
		{name: "fast-forward of three commits", warnings: 0, wantAfter: []string{"db=process", "web=hyperv"}},
		{name: "force-push onto the first commit", rewrite: true, warnings: 1, wantAfter: []string{"db=process", "web=process"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testfixture.NewRemote(t)
			base := r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
			for _, iso := range []string{"hyperv", "process", "hyperv"} {
				r.Publish(map[string]string{"web.yaml": manifest("web", iso)}, nil)
			}
			logger, logs := testLogs(t)
			g := newTestSource(t, GitOptions{URL: r.Bare, Logger: logger})
			pollOK(t, g)
			if shallow, _ := g.repo.Storer.Shallow(); len(shallow) == 0 {
				t.Fatal("the first clone is not shallow")
			}
			if tt.rewrite {
				r.Git("reset", "-q", "--hard", base)
			}
			r.Commit(map[string]string{"a.yaml": manifest("a", "process")}, nil)
			r.Commit(map[string]string{"b.yaml": manifest("b", "process")}, nil)
			head := r.Commit(map[string]string{"db.yaml": manifest("db", "process")}, nil)
			r.Git("push", "-q", "--force", "origin", "HEAD:refs/heads/main")
			if !pollOK(t, g) {
				t.Fatal("new head not seen")
			}
			snap, _ := g.Snapshot(context.Background())
			if snap.Revision != head || len(snap.Errors) > 0 {
				t.Fatalf("revision %s with errors %v, want %s and none", snap.Revision, snap.Errors, head)
			}
			want := append([]string{"a=process", "b=process"}, tt.wantAfter...)
			if got := desired(t, g); !slices.Equal(got, want) {
				t.Errorf("containers = %v, want %v", got, want)
			}
			if n := logs.FilterMessageSnippet("history rewritten").Len(); n != tt.warnings {
				t.Errorf("history-rewritten warnings = %d, want %d", n, tt.warnings)
			}
		})
	}
}
