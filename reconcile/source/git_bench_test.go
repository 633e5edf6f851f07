package source

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testfixture"
	"go.uber.org/zap"
)

// buildLargeRemote writes a bare repository of manifests files spread over
// 50 folders and commits commits (the first adds every file, each later one
// changes 5 files), with git fast-import: a few seconds instead of minutes.
func buildLargeRemote(b *testing.B, manifests, commits int) string {
	b.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git binary needed to build the fixture")
	}
	remote := filepath.Join(b.TempDir(), "large.git")
	testfixture.RunGit(b, filepath.Dir(remote), "init", "-q", "--bare", "-b", "main", remote)
	var s bytes.Buffer
	file := func(i int, isolation string) {
		content := manifest(fmt.Sprintf("c%04d", i), isolation)
		fmt.Fprintf(&s, "M 100644 inline hosts/h%02d/c%04d.yaml\ndata %d\n%s\n", i%50, i, len(content), content)
	}
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for c := range commits {
		msg := fmt.Sprintf("commit %d", c)
		fmt.Fprintf(&s, "commit refs/heads/main\ncommitter Test <test@example.com> %d +0000\ndata %d\n%s\n", when+int64(c), len(msg), msg)
		if c == 0 {
			for i := range manifests {
				file(i, "process")
			}
			continue
		}
		for k := range 5 {
			iso := "process"
			if c%2 == 1 {
				iso = "hyperv"
			}
			file((c*5+k)%manifests, iso)
		}
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = remote
	cmd.Env = append(cmd.Environ(), testfixture.GitEnv...)
	cmd.Stdin = &s
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git fast-import: %v\n%s", err, out)
	}
	testfixture.RunGit(b, remote, "repack", "-adq")
	return remote
}

// BenchmarkGitPollUnchanged is one poll of an unchanged local remote: the
// remote is asked for the ref's head, nothing is fetched or parsed.
// Target: ≤ 50 ms.
func BenchmarkGitPollUnchanged(b *testing.B) {
	for _, size := range []struct {
		name               string
		manifests, commits int
	}{{"small", 10, 10}, {"5000-manifests", 5000, 1000}} {
		b.Run(size.name, func(b *testing.B) {
			remote := buildLargeRemote(b, size.manifests, size.commits)
			g := newTestSource(b, GitOptions{URL: remote, Logger: zap.NewNop()})
			pollOK(b, g)
			fetches := g.fetches.Load()
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if changed, err := g.poll(ctx); err != nil || changed {
					b.Fatalf("poll of an unchanged remote: changed %v, err %v", changed, err)
				}
			}
			b.StopTimer()
			if g.fetches.Load() != fetches {
				b.Fatalf("an unchanged remote was fetched %d times", g.fetches.Load()-fetches)
			}
		})
	}
}

// BenchmarkGitCloneLargeRepo clones a repository of 5,000 manifests over
// 1,000 commits (target: ≤ 5 s), and one of 20,000 over 2,000 (issue 14:
// clone and first evaluation ≤ 3 s), into an empty cache dir and builds
// its head snapshot.
//
//	go test -run '^$' -bench GitCloneLargeRepo -benchtime 1x ./reconcile/source/
func BenchmarkGitCloneLargeRepo(b *testing.B) {
	for _, size := range []struct{ manifests, commits int }{{5000, 1000}, {20000, 2000}} {
		b.Run(fmt.Sprintf("%d-manifests-%d-commits", size.manifests, size.commits), func(b *testing.B) {
			benchClone(b, size.manifests, size.commits)
		})
	}
}

func benchClone(b *testing.B, manifests, commits int) {
	remote := buildLargeRemote(b, manifests, commits)
	ctx := context.Background()
	var fetch, build time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		g, err := NewGitSource(GitOptions{URL: remote, CacheDir: b.TempDir(), Logger: zap.NewNop()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		unlock, err := g.openCache()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		head, err := g.fetchHead(ctx)
		if err != nil {
			b.Fatal(err)
		}
		fetched := time.Now()
		if _, err := g.applyCommit(head); err != nil {
			b.Fatal(err)
		}
		fetch += fetched.Sub(start)
		build += time.Since(fetched)
		unlock()
		snap, _ := g.Snapshot(ctx)
		if len(snap.Containers) != manifests || len(snap.Errors) > 0 {
			b.Fatalf("head snapshot: %d containers, %d errors; want %d and none", len(snap.Containers), len(snap.Errors), manifests)
		}
	}
	b.ReportMetric(float64(fetch.Milliseconds())/float64(b.N), "fetch-ms/op")
	b.ReportMetric(float64(build.Milliseconds())/float64(b.N), "build-ms/op")
}
