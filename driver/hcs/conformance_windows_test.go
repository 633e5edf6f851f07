//go:build windows

package hcs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/windows"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/drivertest"
	"github.com/reconciler/reconciler/spec"
)

// requireContainerHost skips unless the test runs elevated on a host with
// the Containers feature.
func requireContainerHost(t *testing.T) {
	t.Helper()
	const how = "run elevated (as Administrator) on Windows with the Containers feature; " +
		"set RECONCILER_HCS_TEST_IMAGE to an image matching the host build (e.g. mcr.microsoft.com/windows/nanoserver:ltsc2022) " +
		"and RECONCILER_HCS_TEST_OLD_IMAGE to an older one (e.g. mcr.microsoft.com/windows/nanoserver:ltsc2019), then go test ./driver/hcs/"
	if !windows.GetCurrentProcessToken().IsElevated() {
		t.Skip("not elevated: " + how)
	}
	if err := windows.NewLazySystemDLL("vmcompute.dll").Load(); err != nil {
		t.Skip("no Host Compute Service (vmcompute.dll): " + how)
	}
}

// testDataDir is where the layer store lives across runs, so images are
// pulled once: RECONCILER_HCS_TEST_DATA or a folder under the temp dir.
func testDataDir(t *testing.T) string {
	if d := os.Getenv("RECONCILER_HCS_TEST_DATA"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "reconciler-hcs-test")
}

func TestConformance(t *testing.T) {
	requireContainerHost(t)
	drivertest.Run(t, func(t *testing.T) drivertest.Harness {
		owner := fmt.Sprintf("reconciler-test-%d", time.Now().UnixNano())
		d, err := New(t.Context(), Options{
			Owner:       owner,
			DataDir:     testDataDir(t),
			Logger:      zaptest.NewLogger(t),
			StopTimeout: 10 * time.Second,
			// test/windows/run.ps1 -Record sets it: keep what the host answers.
			RecordDir: os.Getenv("RECONCILER_HCS_RECORD"),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = d.Close() })
		return drivertest.Harness{
			Driver:          d,
			Owner:           owner,
			ProcessImage:    os.Getenv("RECONCILER_HCS_TEST_IMAGE"),
			HyperVOnlyImage: os.Getenv("RECONCILER_HCS_TEST_OLD_IMAGE"),
			HealthyCheck:    spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}},
			Unhealthy: func(*testing.T, driver.System) spec.Healthcheck {
				return spec.Healthcheck{Exec: []string{"cmd", "/c", "echo not ready & exit 1"}}
			},
			Stop: func(t *testing.T, sys driver.System) { killMainProcess(t, d, sys.ID) },
		}
	})
}

// killMainProcess kills the main process of the system id, which the
// driver watches, and returns once List shows the system stopped; it skips
// the test when the host deleted the system instead.
func killMainProcess(t *testing.T, d *Driver, id string) {
	t.Helper()
	d.mu.Lock()
	w, ok := d.handles[id]
	d.mu.Unlock()
	if !ok || w.p == nil {
		t.Fatalf("%s: no watched main process", id)
	}
	if err := w.p.Kill(); err != nil {
		t.Fatalf("kill the main process of %s: %v", id, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		sys, err := d.observe(ctx, id)
		switch {
		case errors.Is(err, driver.ErrNotFound):
			t.Skipf("%s: the host deleted the system once stopped", id)
		case err != nil:
			t.Fatalf("observe %s: %v", id, err)
		case sys.State == driver.StateStopped:
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s still %s after its main process was killed", id, sys.State)
		case <-tick.C:
		}
	}
}
