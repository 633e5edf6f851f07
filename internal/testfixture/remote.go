package testfixture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// GitEnv makes the git binary independent of the user's configuration.
var GitEnv = []string{
	"GIT_AUTHOR_NAME=Reconciler Test", "GIT_AUTHOR_EMAIL=test@example.com",
	"GIT_COMMITTER_NAME=Reconciler Test", "GIT_COMMITTER_EMAIL=test@example.com",
	"GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
}

// Remote is a bare repository on disk, the remote a source or an agent
// follows, and a working clone that commits and pushes to it, both in
// t.TempDir().
type Remote struct {
	t    testing.TB
	Bare string // the bare repository's path
	Work string // the working clone's path
}

// NewRemote creates an empty bare remote and its working clone, whose
// remote "origin" is the bare one; the default branch is main. It skips
// the test when no git binary is installed (pushing needs one).
func NewRemote(t testing.TB) *Remote {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("the git binary is needed to push to the test remotes")
	}
	dir := t.TempDir()
	r := &Remote{t: t, Bare: filepath.Join(dir, "remote.git"), Work: filepath.Join(dir, "work")}
	r.InitBare()
	RunGit(t, dir, "init", "-q", "-b", "main", r.Work)
	r.Git("remote", "add", "origin", r.Bare)
	return r
}

// InitBare (re)creates the bare remote, empty.
func (r *Remote) InitBare() {
	r.t.Helper()
	RunGit(r.t, filepath.Dir(r.Bare), "init", "-q", "--bare", "-b", "main", r.Bare)
}

// RunGit runs the git binary in dir, with GitEnv and signing off, and
// returns its trimmed output; it fails t when git fails.
func RunGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), GitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Git runs the git binary in the working clone.
func (r *Remote) Git(args ...string) string {
	r.t.Helper()
	return RunGit(r.t, r.Work, args...)
}

// Push pushes refspecs to the remote (git push -q origin REFSPECS...).
func (r *Remote) Push(refspecs ...string) {
	r.t.Helper()
	r.Git(append([]string{"push", "-q", "origin"}, refspecs...)...)
}

// Write changes the working clone: each file name (slash-separated,
// relative to the clone) gets its content, and an empty content deletes
// the file.
func (r *Remote) Write(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.Work, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Commit writes files (see Write), commits everything in the working
// clone with go-git, signed by key unless it is nil, and returns the
// commit id. It does not push. A commit that changes nothing is allowed.
func (r *Remote) Commit(files map[string]string, key *openpgp.Entity) string {
	r.t.Helper()
	r.Write(files)
	repo, err := git.PlainOpen(r.Work)
	if err != nil {
		r.t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	who := &object.Signature{Name: "Reconciler Test", Email: "test@example.com", When: time.Now()}
	h, err := wt.Commit(fmt.Sprintf("change %d files", len(files)), &git.CommitOptions{Author: who, Committer: who, SignKey: key, AllowEmptyCommits: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// Publish commits files as Commit does, pushes the commit to main and
// returns its id.
func (r *Remote) Publish(files map[string]string, key *openpgp.Entity) string {
	r.t.Helper()
	id := r.Commit(files, key)
	r.Push("HEAD:refs/heads/main")
	return id
}
