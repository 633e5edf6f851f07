package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/spec"
)

// testRemote is a bare "remote" repository and a working clone that pushes
// to it, both in t.TempDir().
type testRemote struct {
	t      testing.TB
	remote string // bare repository path
	work   string // working clone
}

// gitEnv keeps the tests independent of the machine's git configuration.
var gitEnv = []string{
	"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
	"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
}

func newTestRemote(t testing.TB) *testRemote {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary needed to push to test repositories")
	}
	dir := t.TempDir()
	r := &testRemote{t: t, remote: filepath.Join(dir, "remote.git"), work: filepath.Join(dir, "work")}
	main := git.InitOptions{DefaultBranch: plumbing.Main}
	if _, err := git.PlainInitWithOptions(r.remote, &git.PlainInitOptions{Bare: true, InitOptions: main}); err != nil {
		t.Fatal(err)
	}
	work, err := git.PlainInitWithOptions(r.work, &git.PlainInitOptions{InitOptions: main})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := work.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{r.remote}}); err != nil {
		t.Fatal(err)
	}
	return r
}

// runGit runs git in dir and returns its trimmed output.
func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *testRemote) git(args ...string) string {
	r.t.Helper()
	return runGit(r.t, r.work, args...)
}

// write changes the working clone: an empty content deletes the file.
func (r *testRemote) write(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.work, filepath.FromSlash(name))
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

// commit writes files, commits everything, pushes to main and returns the
// commit id.
func (r *testRemote) commit(files map[string]string) string {
	r.t.Helper()
	return r.commitSigned(files, nil)
}

// commitSigned commits files in the working clone with go-git, signed by
// key (nil: unsigned), pushes to main and returns the commit id.
func (r *testRemote) commitSigned(files map[string]string, key *openpgp.Entity) string {
	r.t.Helper()
	r.write(files)
	repo, err := git.PlainOpen(r.work)
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
	who := &object.Signature{Name: "Test", Email: "test@example.com", When: time.Now()}
	h, err := wt.Commit("change", &git.CommitOptions{Author: who, Committer: who, SignKey: key, AllowEmptyCommits: true})
	if err != nil {
		r.t.Fatal(err)
	}
	r.git("push", "-q", "origin", "HEAD:refs/heads/main")
	return h.String()
}

// manifest is a valid single-container manifest.
func manifest(name, isolation string) string {
	return fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: %s
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolation: %s
`, name, isolation)
}

// brokenManifest has an unknown field on line 7.
func brokenManifest(name string) string {
	return fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: %s
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolaton: hyperv
`, name)
}

// testLogs is a logger writing both to the test log and to an observer.
func testLogs(t testing.TB) (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zaptest.NewLogger(t, zaptest.Level(zapcore.DebugLevel)).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, core)
	})), logs
}

// newTestSource makes a source on the remote with its own cache dir (unless
// opts has one) and opens the cache, as Run does first.
func newTestSource(t testing.TB, opts GitOptions) *GitSource {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger, _ = testLogs(t)
	}
	g, err := NewGitSource(opts)
	if err != nil {
		t.Fatalf("NewGitSource: %v", err)
	}
	unlock, err := g.openCache()
	if err != nil {
		t.Fatalf("openCache: %v", err)
	}
	t.Cleanup(unlock)
	return g
}

// pollOK polls once and fails the test on error.
func pollOK(t testing.TB, g *GitSource) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	changed, err := g.poll(ctx)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return changed
}

// desired renders a snapshot's containers as "name=isolation", sorted.
func desired(t testing.TB, g *GitSource) []string {
	t.Helper()
	s, err := g.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range s.Containers {
		out = append(out, c.Metadata.Name+"="+string(c.Spec.Isolation))
	}
	sort.Strings(out)
	return out
}

// problemText joins a snapshot's errors, one per line.
func problemText(ps []spec.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
