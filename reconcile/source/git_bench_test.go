package source

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testfixture"
	"go.uber.org/zap"
)

// buildLargeRemote is testfixture.BuildLargeRemote in b.TempDir().
func buildLargeRemote(b *testing.B, manifests, commits int) string {
	b.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git binary needed to build the fixture")
	}
	remote := filepath.Join(b.TempDir(), "large.git")
	if err := testfixture.BuildLargeRemote(remote, manifests, commits); err != nil {
		b.Fatal(err)
	}
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
		if _, err := g.applyCommit(ctx, head); err != nil {
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
