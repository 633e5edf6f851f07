package sim

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/drivertest"
	"github.com/reconciler/reconciler/spec"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivertest.Harness {
		h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
		return drivertest.Harness{
			Driver:          h,
			Owner:           "reconciler",
			ProcessImage:    "mcr.microsoft.com/windows/nanoserver:ltsc2022",
			HyperVOnlyImage: "mcr.microsoft.com/windows/servercore:ltsc2019",
			NoHyperV: func(t *testing.T) driver.Driver {
				h := openTestHost(t, filepath.Join(t.TempDir(), "nohyperv.json"))
				host := defaultHost
				host.HyperV = false
				if err := h.SetHost(t.Context(), host); err != nil {
					t.Fatal(err)
				}
				return h
			},
			Unhealthy: func(t *testing.T, sys driver.System) spec.Healthcheck {
				if err := h.SetHealth(t.Context(), HealthSetting{Name: sys.Name, State: HealthFail}); err != nil {
					t.Fatal(err)
				}
				return spec.Healthcheck{HTTP: spec.HTTPCheck{Path: "/healthz", Port: 80}}
			},
			Stop: func(t *testing.T, sys driver.System) {
				if err := h.Kill(t.Context(), sys.ID, 1); err != nil {
					t.Fatal(err)
				}
			},
			SlowPulls: func(t *testing.T) {
				if err := h.SetFaults(t.Context(), Faults{PullLatency: time.Hour}); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// openTestHost opens an emulated host at path, closed when the test ends.
func openTestHost(t testing.TB, path string) *EmulatedHost {
	t.Helper()
	h, err := Open(path, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// createReq is a managed create request for name.
func createReq(name string, iso spec.Isolation, image string) driver.CreateRequest {
	return driver.CreateRequest{
		Name:      name,
		Owner:     "reconciler",
		SpecHash:  "v1-" + name,
		Isolation: iso,
		Spec:      spec.ContainerSpec{Image: image, Isolation: iso, Command: []string{"ping", "localhost", "-t"}},
	}
}

// sysID is the ID of a system of owner "reconciler" (as createReq makes).
func sysID(name, specHash string) string {
	return driver.SystemID(name, "reconciler", specHash)
}

// managedID is the ID createReq(name, …) gets.
func managedID(name string) string {
	return sysID(name, "v1-"+name)
}

func mustCreate(t testing.TB, ctx context.Context, h *EmulatedHost, req driver.CreateRequest) driver.System {
	t.Helper()
	sys, err := h.Create(ctx, req)
	if err != nil {
		t.Fatalf("Create(%s): %v", req.Name, err)
	}
	return sys
}
