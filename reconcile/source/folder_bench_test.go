package source

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
)

// folderBenchManifest is a manifest of typical size (about 20 lines).
func folderBenchManifest(name string) string {
	return fmt.Sprintf(`apiVersion: reconciler/v1
kind: Container
metadata:
  name: %s
  labels: {app: %s, tier: backend}
spec:
  image: mcr.microsoft.com/windows/servercore:ltsc2022
  isolation: hyperv
  command: [ping, localhost, -t]
  workingDir: 'C:\app'
  env: {LOG_LEVEL: info, MODE: production}
  hostname: %s
  restartPolicy: always
  resources: {cpuCount: 2, cpuMaximumPercent: 50, memoryMB: 1024}
`, name, name, name)
}

// folderBench writes n manifests in 10 subfolders of a new folder, aged so
// that their mtimes are trusted.
func folderBench(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := range n {
		name := fmt.Sprintf("c%05d", i)
		folderWrite(b, dir, fmt.Sprintf("team%d/%s.yaml", i%10, name), folderBenchManifest(name))
	}
	folderAge(b, dir)
	return dir
}

func folderBenchSource(b *testing.B, dir string, workers int) *FolderSource {
	b.Helper()
	f, err := NewFolderSource(FolderOptions{Dir: dir, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	if workers > 0 {
		f.workers = workers
	}
	return f
}

// BenchmarkFolderNotifyLatency measures, with the default debounce, a
// manifest's rename into a folder of 1,000 manifests to notify, and to the
// Snapshot that shows it (the source's whole part of the agent's latency).
// Run it with -benchtime=100x.
func BenchmarkFolderNotifyLatency(b *testing.B) {
	dir := folderBench(b, 1000)
	stage := b.TempDir()
	src := folderBenchSource(b, dir, 0)
	notified := make(chan time.Time, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func() { notified <- time.Now() }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	<-notified
	if _, err := src.Snapshot(ctx); err != nil {
		b.Fatal(err)
	}

	var toNotify, toSnapshot []time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("edit%04d", i)
		folderWrite(b, stage, name+".yaml", folderBenchManifest(name))
		start := time.Now()
		folderRename(b, filepath.Join(stage, name+".yaml"), filepath.Join(dir, name+".yaml"))
		select {
		case at := <-notified:
			toNotify = append(toNotify, at.Sub(start))
		case <-time.After(5 * time.Second):
			b.Fatalf("edit %d: no notify", i)
		}
		s, err := src.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		toSnapshot = append(toSnapshot, time.Since(start))
		if len(s.Containers) != 1000+i+1 {
			b.Fatalf("edit %d: %d containers", i, len(s.Containers))
		}
	}
	b.StopTimer()
	b.ReportMetric(folderPercentileMS(toNotify, 50), "notify-p50-ms")
	b.ReportMetric(folderPercentileMS(toNotify, 99), "notify-p99-ms")
	b.ReportMetric(folderPercentileMS(toSnapshot, 50), "snapshot-p50-ms")
	b.ReportMetric(folderPercentileMS(toSnapshot, 99), "snapshot-p99-ms")
}

// folderPercentileMS returns the p-th percentile of ds in milliseconds (nearest
// rank).
func folderPercentileMS(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return float64(s[max(rank, 1)-1]) / float64(time.Millisecond)
}

// BenchmarkFolderSnapshotUnchanged1000: a Snapshot of 1,000 files none of
// which changed: stats only, no read, no parse.
func BenchmarkFolderSnapshotUnchanged1000(b *testing.B) {
	src := folderBenchSource(b, folderBench(b, 1000), 0)
	ctx := context.Background()
	if _, err := src.Snapshot(ctx); err != nil {
		b.Fatal(err)
	}
	before := src.Stats()
	b.ResetTimer()
	for range b.N {
		if _, err := src.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if after := src.Stats(); after.Parses != before.Parses || after.Reads != before.Reads {
		b.Fatalf("unchanged files were read (%d) or parsed (%d)", after.Reads-before.Reads, after.Parses-before.Parses)
	}
}

// BenchmarkFolderSnapshotCold10000: the first Snapshot of 10,000 files (walk,
// read, hash, parse), with one worker and with GOMAXPROCS workers.
func BenchmarkFolderSnapshotCold10000(b *testing.B) {
	dir := folderBench(b, 10_000)
	for _, workers := range slices.Compact([]int{1, runtime.GOMAXPROCS(0)}) {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for range b.N {
				s, err := folderBenchSource(b, dir, workers).Snapshot(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Containers) != 10_000 || len(s.Errors) != 0 {
					b.Fatalf("%d containers, errors %v", len(s.Containers), s.Errors[:min(3, len(s.Errors))])
				}
			}
		})
	}
}
