package source

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

// manifest is a valid single-container manifest of the usual image.
func manifest(name, isolation string) string {
	return testfixture.Manifest(name, testfixture.ServerCore2022, isolation)
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
	ctx, cancel := context.WithTimeout(context.Background(), testfixture.Patience(t))
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
