package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// statusRemote is a bare remote whose main branch holds a manifest, as a
// tracked repository does.
func statusRemote(t *testing.T) *testfixture.Remote {
	t.Helper()
	r := testfixture.NewRemote(t)
	r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
	return r
}

// newPublisher makes a publisher of host's file on the branch "status" of
// url, pushing as often as asked.
func newPublisher(t *testing.T, url, host string) *StatusPublisher {
	t.Helper()
	log, _ := testLogs(t)
	p, err := NewStatusPublisher(StatusBranchOptions{URL: url, TrackedRef: "main", Branch: "status", Host: host,
		Interval: time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runPublisher runs p until the test ends.
func runPublisher(t *testing.T, p *StatusPublisher) {
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// branchFiles reads the files of hosts/ on branch of the bare repository,
// and how many commits the branch has.
func branchFiles(t *testing.T, bare, branch string) (files map[string]string, commits int) {
	t.Helper()
	repo, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("branch %s: %v", branch, err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	files = map[string]string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Log(&git.LogOptions{From: ref.Hash()})
	if err != nil {
		t.Fatal(err)
	}
	_ = iter.ForEach(func(*object.Commit) error { commits++; return nil })
	return files, commits
}

// TestStatusPublisherFirstPushCreatesOrphanBranch: the first publication
// creates the status branch, with no parent (nothing of the tracked
// branch), holding hosts/<host>.json; the tracked branch is untouched.
func TestStatusPublisherFirstPushCreatesOrphanBranch(t *testing.T) {
	r := statusRemote(t)
	main := r.Git("rev-parse", "HEAD")
	p := newPublisher(t, "file://"+filepath.ToSlash(r.Bare), "web1")
	commit, err := p.publish(t.Context(), []byte(`{"host":"web1"}`))
	if err != nil {
		t.Fatal(err)
	}
	files, commits := branchFiles(t, r.Bare, "status")
	if want := map[string]string{"hosts/web1.json": `{"host":"web1"}`}; fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("status branch files = %v, want %v", files, want)
	}
	if commits != 1 {
		t.Errorf("status branch has %d commits, want 1 (an orphan branch)", commits)
	}
	if got := testfixture.RunGit(t, r.Bare, "rev-parse", "refs/heads/status"); got != commit.String() {
		t.Errorf("status branch at %s, publish said %s", got, commit)
	}
	if got := testfixture.RunGit(t, r.Bare, "rev-parse", "refs/heads/main"); got != main {
		t.Errorf("main moved from %s to %s", main, got)
	}
}

// TestStatusPublisherRunPushesChangesOnly: Run pushes what Offer gives;
// an offer whose summary (key) did not change is refused and commits
// nothing, and the next change is a second commit on the branch.
func TestStatusPublisherRunPushesChangesOnly(t *testing.T) {
	r := statusRemote(t)
	p := newPublisher(t, r.Bare, "web1")
	runPublisher(t, p)

	pushed := func(doc string) {
		t.Helper()
		if !testfixture.Eventually(t, func() bool {
			st := p.State()
			return !st.Pending && st.Commit != "" && st.Commit == testfixture.RunGit(t, r.Bare, "rev-parse", "refs/heads/status")
		}) {
			t.Fatalf("not pushed: %+v", p.State())
		}
		if files, _ := branchFiles(t, r.Bare, "status"); files["hosts/web1.json"] != doc {
			t.Fatalf("hosts/web1.json = %q, want %q", files["hosts/web1.json"], doc)
		}
	}
	if !p.Offer([]byte(`{"at":1,"create":1}`), []byte(`{"create":1}`)) {
		t.Fatal("first offer refused")
	}
	pushed(`{"at":1,"create":1}`)
	if p.Offer([]byte(`{"at":2,"create":1}`), []byte(`{"create":1}`)) {
		t.Error("an offer with the same summary and a new time was taken")
	}
	if !p.Offer([]byte(`{"at":3,"create":2}`), []byte(`{"create":2}`)) {
		t.Fatal("changed offer refused")
	}
	pushed(`{"at":3,"create":2}`)
	if _, commits := branchFiles(t, r.Bare, "status"); commits != 2 {
		t.Errorf("status branch has %d commits, want 2 (the unchanged summary is not committed)", commits)
	}
}

// TestStatusPublishersRace: hosts publishing to the same branch at once
// all end up on it: a refused push is done again on the new head.
func TestStatusPublishersRace(t *testing.T) {
	r := statusRemote(t)
	hosts := []string{"web1", "web2", "web3"}
	var wg sync.WaitGroup
	errs := make([]error, len(hosts))
	for i, h := range hosts {
		p := newPublisher(t, r.Bare, h)
		p.tries = 20
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.publish(t.Context(), []byte(h))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	files, _ := branchFiles(t, r.Bare, "status")
	for _, h := range hosts {
		if files["hosts/"+h+".json"] != h {
			t.Errorf("hosts/%s.json = %q, want %q (files: %v)", h, files["hosts/"+h+".json"], h, files)
		}
	}
}

// TestStatusPublisherRetriesOnTop: another host pushes between this
// host's fetch and push; the refused push is done again on the new head,
// and both files are on the branch.
func TestStatusPublisherRetriesOnTop(t *testing.T) {
	r := statusRemote(t)
	p1, p2 := newPublisher(t, r.Bare, "web1"), newPublisher(t, r.Bare, "web2")
	p1.beforePush = func() {
		p1.beforePush = nil
		if _, err := p2.publish(t.Context(), []byte("web2")); err != nil {
			t.Error(err)
		}
	}
	if _, err := p1.publish(t.Context(), []byte("web1")); err != nil {
		t.Fatal(err)
	}
	if n := p1.attempts.Load(); n != 2 {
		t.Errorf("web1 published in %d attempts, want 2 (one refused, one on top)", n)
	}
	files, commits := branchFiles(t, r.Bare, "status")
	if files["hosts/web1.json"] != "web1" || files["hosts/web2.json"] != "web2" || commits != 2 {
		t.Errorf("status branch: %v in %d commits, want both hosts' files in 2", files, commits)
	}
}

// TestStatusPublisherUnreachable: with a remote that does not exist,
// Offer returns at once, the failure shows in State and is logged once.
func TestStatusPublisherUnreachable(t *testing.T) {
	log, logs := testLogs(t)
	p, err := NewStatusPublisher(StatusBranchOptions{URL: filepath.Join(t.TempDir(), "none.git"), Branch: "status", Host: "web1",
		Interval: time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	p.tries = 1
	runPublisher(t, p)
	// Offer does not wait for the push: with Run busy or not, it returns.
	for i := range 3 {
		p.Offer([]byte("x"), []byte{byte(i)})
	}
	if !testfixture.Eventually(t, func() bool {
		return logs.FilterMessageSnippet("push failed").Len() > 0 && p.State().Error != ""
	}) {
		t.Fatalf("failure not reported: %+v", p.State())
	}
	st := p.State()
	if !st.Pending || st.Commit != "" || !strings.Contains(st.Error, "status branch publish") {
		t.Errorf("state = %+v, want pending, no commit, a status branch publish error", st)
	}
	// Retries (every interval) fail the same way: logged once.
	if !testfixture.Eventually(t, func() bool { return p.attempts.Load() >= 3 }) {
		t.Fatal("not retried")
	}
	if n := logs.FilterMessageSnippet("push failed").Len(); n != 1 {
		t.Errorf("push failure logged %d times, want once", n)
	}
}

// TestNewStatusPublisherRefuses: the status branch is never the tracked
// ref, and its credentials fit its URL.
func TestNewStatusPublisherRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts StatusBranchOptions
		want string
	}{
		{"tracked branch", StatusBranchOptions{URL: "file:///r.git", TrackedRef: "main", Branch: "main", Host: "h"}, "is the tracked ref"},
		{"tracked full ref", StatusBranchOptions{URL: "file:///r.git", TrackedRef: "refs/heads/fleet", Branch: "fleet", Host: "h"}, "is the tracked ref"},
		{"no branch", StatusBranchOptions{URL: "file:///r.git", Host: "h"}, "invalid status branch"},
		{"bad branch", StatusBranchOptions{URL: "file:///r.git", Branch: "a..b", Host: "h"}, "invalid status branch"},
		{"host with a slash", StatusBranchOptions{URL: "file:///r.git", Branch: "status", Host: "a/b"}, "invalid host name"},
		{"token for file URL", StatusBranchOptions{URL: "file:///r.git", Branch: "status", Host: "h", TokenFile: "t"}, "token file is for https"},
		{"token over http", StatusBranchOptions{URL: "http://git.example.com/r.git", Branch: "status", Host: "h", TokenFile: writeFile(t, "token", "secret")}, "unencrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStatusPublisher(tt.opts)
			if !errors.Is(err, ErrGitConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrGitConfig with %q", err, tt.want)
			}
		})
	}
}

// TestStatusPublisherRefusesDefaultBranch: without a tracked ref, the
// agent follows the remote's default branch, which publishing refuses.
func TestStatusPublisherRefusesDefaultBranch(t *testing.T) {
	r := statusRemote(t)
	p, err := NewStatusPublisher(StatusBranchOptions{URL: r.Bare, Branch: "main", Host: "web1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.publish(t.Context(), []byte("x")); !errors.Is(err, ErrGitConfig) {
		t.Errorf("publish on the default branch: err = %v, want ErrGitConfig", err)
	}
}
