package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/regularfile"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

// statusHost is the host in `status -o json`.
type statusHost struct {
	reconcile.HostJSON
	HyperV bool `json:"hyperv"`
}

// statusContainer is one compute system in `status -o json`.
type statusContainer struct {
	driver.System
	Managed bool `json:"managed"`
	// StateReason says why a stopped container stays so: "restart
	// limit: 5 in 10m" when the flap limit left it stopped.
	StateReason string `json:"stateReason,omitempty"`
	// Update is "failed (rolled back)" when the last rollout of this
	// owner's container of that name was rolled back (RolledBack says
	// which specs and why).
	Update     string                    `json:"update,omitempty"`
	RolledBack *reconcile.RollbackRecord `json:"rolledBack,omitempty"`
	// Health is healthy, unhealthy or starting for a running container
	// of this owner that declares a healthcheck (one check, see
	// reconcile.CheckRunning); LastHealthFailure what a failed check saw.
	Health            reconcile.Health `json:"health,omitempty"`
	LastHealthFailure string           `json:"lastHealthFailure,omitempty"`
}

// stateText is the state as the text views show it: "stopped (restart
// limit: 5 in 10m)", "running (healthy)", "running (healthy), failed
// (rolled back)".
func (c statusContainer) stateText() string {
	state := string(c.State)
	switch {
	case c.StateReason != "":
		state += " (" + c.StateReason + ")"
	case c.Health != "":
		state += " (" + string(c.Health) + ")"
	}
	if c.Update != "" {
		state += ", " + c.Update
	}
	return state
}

// statusReport is `status -o json`, and what --against reads back.
type statusReport struct {
	Host       *statusHost       `json:"host"`
	Containers []statusContainer `json:"containers"`
}

// errSnapshotHost refuses a change to a host read from a snapshot.
var errSnapshotHost = errors.New("a host read from a status snapshot (--against) cannot be changed")

// snapshotHost is a host as `reconciler status -o json` saw it, taken on
// that host: `reconcile --dry-run --against FILE` plans against it, so CI
// can say what a change would do on host X before it is merged. It only
// reads.
type snapshotHost struct {
	host    spec.Host
	systems []driver.System
}

// maxSnapshot bounds a status snapshot: 10,000 containers take about 5 MB.
const maxSnapshot = 256 << 20

// loadSnapshot reads a `status -o json` file. Anything but a regular file
// (a named pipe would block the read forever) is refused before it is
// opened.
func loadSnapshot(path string) (*snapshotHost, error) {
	data, err := regularfile.Read(path, maxSnapshot)
	if errors.Is(err, regularfile.ErrNotRegular) {
		return nil, fmt.Errorf("--against %w: give the file `reconciler status -o json` wrote", err)
	}
	if err != nil {
		return nil, fmt.Errorf("--against: %w", err)
	}
	var r statusReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("--against %s: not the JSON of `reconciler status -o json`: %w", path, err)
	}
	if r.Host == nil || r.Host.Build == 0 || r.Containers == nil {
		return nil, fmt.Errorf("--against %s: not the JSON of `reconciler status -o json` (it needs \"host\" with its build and \"containers\"): take it with `reconciler status -o json > %s` on the host", path, path)
	}
	switch r.Host.SKU {
	case spec.SKUServer, spec.SKUClient:
	default:
		return nil, fmt.Errorf("--against %s: host.sku %q: must be server or client", path, r.Host.SKU)
	}
	s := &snapshotHost{host: spec.Host{Build: r.Host.Build, Revision: r.Host.Revision, SKU: r.Host.SKU, HyperV: r.Host.HyperV}}
	for _, c := range r.Containers {
		if c.ID == "" || c.Name == "" {
			return nil, fmt.Errorf("--against %s: a container without its id or name", path)
		}
		s.systems = append(s.systems, c.System)
	}
	return s, nil
}

func (s *snapshotHost) Host(context.Context) (spec.Host, error) { return s.host, nil }

func (s *snapshotHost) List(context.Context) ([]driver.System, error) {
	return slices.Clone(s.systems), nil
}

func (s *snapshotHost) Create(context.Context, driver.CreateRequest) (driver.System, error) {
	return driver.System{}, errSnapshotHost
}

func (s *snapshotHost) Remove(context.Context, string, time.Duration) error {
	return errSnapshotHost
}
