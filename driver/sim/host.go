package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// hcsNoHyperV is what HCS says when Hyper-V isolation is asked of a host
// without Hyper-V (error 0x80370102 of the virtualization facility).
const hcsNoHyperV = "Hyper-V is not installed: the virtual machine could not be started because a required feature is not installed. (0x80370102)"

// EmulatedHost is an emulated HCS host whose state lives in one file. Any
// number of EmulatedHost values, in any number of processes, may share a
// state file: every call reads and writes it under a file lock, so each
// call sees what the others did before it and nothing is lost. All methods
// are safe for concurrent use; they block while another caller holds the
// lock and return ctx's error if ctx is done first.
type EmulatedHost struct {
	st  *store
	log *zap.Logger
}

var (
	_ driver.Driver        = (*EmulatedHost)(nil)
	_ driver.ProcessViewer = (*EmulatedHost)(nil)
	_ driver.ImagePreparer = (*EmulatedHost)(nil)
	_ driver.RequestReader = (*EmulatedHost)(nil)
	_ driver.HealthChecker = (*EmulatedHost)(nil)
)

// Open opens the emulated host whose state is at path (symlinks resolved:
// every path to one state shares its lock). Only when neither the state
// file nor its journal exists is a new state created, with its parent
// folders: Windows Server 2022 (build 20348, revision 1, SKU server) with
// Hyper-V, no systems, no faults. A state whose files do not agree (one
// missing, truncated, edited, or of another host) fails with an error
// wrapping ErrStateDamaged that names the file and says what to do; it is
// never read as an empty host. A state of the format before host ids is
// upgraded. Open blocks while another process holds the state's lock. A
// nil logger logs nothing. Close releases what Open holds.
func Open(path string, logger *zap.Logger) (*EmulatedHost, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	st, err := openStore(path, logger)
	if err != nil {
		return nil, err
	}
	created, err := st.initialize(context.Background())
	if err != nil {
		_ = st.close()
		return nil, fmt.Errorf("open emulated host %s: %w", st.path, err)
	}
	if created {
		logger.Debug("created emulated host state", zap.String("path", st.path), zap.Stringer("host", defaultHost))
	}
	return &EmulatedHost{st: st, log: logger}, nil
}

// Path is the state file's path, symlinks resolved.
func (h *EmulatedHost) Path() string { return h.st.path }

// Close releases the lock file's handle. Calls after Close fail with an
// error wrapping os.ErrClosed. Idempotent.
func (h *EmulatedHost) Close() error { return h.st.close() }

// Host reports the emulated host.
func (h *EmulatedHost) Host(ctx context.Context) (spec.Host, error) {
	var host spec.Host
	err := h.st.read(ctx, func(m *model) error {
		host = m.host
		return nil
	})
	if err != nil {
		return spec.Host{}, fmt.Errorf("host: %w", err)
	}
	return host, nil
}

// List returns every compute system of every owner, sorted by ID. Like
// CheckHealth, it reads the state again only when its files changed (see
// readUnchanged), and it sorts only the systems added since the last List.
func (h *EmulatedHost) List(ctx context.Context) ([]driver.System, error) {
	var out []driver.System
	err := h.st.readCached(ctx, func(m *model) error {
		records := m.sortedSystems()
		out = make([]driver.System, len(records))
		for i, r := range records {
			out[i] = r.system()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return out, nil
}

// Create creates and starts a compute system for req, as HCS would. Its ID
// is driver.SystemID(req.Name, req.Owner, req.SpecHash), so two owners may
// create one name; a request without a spec hash (a foreign container, as
// `reconciler sim create` makes) gets its name as ID. The image's OS version is req.ImageVersion when known, else what
// req.Spec's image tag or osVersion reveal; an unknown version is accepted
// (HCS would judge the image's own os.version).
//
// Errors: driver.ErrIncompatible with HCS's own words when the host cannot
// run the image in that isolation mode or has no Hyper-V for hyperv;
// driver.ErrAlreadyExists for an existing ID; driver.ErrTransient while
// injected transient failures last; a plain error for an isolation other
// than process/hyperv, a malformed spec.osVersion, a name in
// Faults.FailNames (unless spared), an image in Faults.FailImages, or a
// host port in Faults.FailPorts. After the injected latency (slept without
// the lock; plus Faults.PullLatency when the host does not have the image
// yet, which it has from then on), either the system exists and is running
// or nothing changed.
func (h *EmulatedHost) Create(ctx context.Context, req driver.CreateRequest) (driver.System, error) {
	id := req.Name
	if req.SpecHash != "" {
		id = driver.SystemID(req.Name, req.Owner, req.SpecHash)
	}
	img, err := checkRequest(req)
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", id, err)
	}
	// An image the host does not have is pulled first.
	if err := h.sleepLatency(ctx, func(m *model) (time.Duration, error) {
		if m.images[req.Spec.Image] {
			return m.faults.Latency, nil
		}
		return m.faults.PullLatency + m.faults.Latency, nil
	}); err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", id, err)
	}
	var sys driver.System
	err = h.st.update(ctx, func(m *model, commit func(entry) error) error {
		if err := h.consumeTransient(m, commit); err != nil {
			return err
		}
		if m.faults.failsCreate(req.Name, id) {
			return errors.New("injected permanent failure")
		}
		if err := m.faults.pullError(req.Spec.Image); err != nil {
			return err
		}
		if _, ok := m.systems[id]; ok {
			return driver.ErrAlreadyExists
		}
		if err := refuseIncompatible(m.host, img, req.Isolation); err != nil {
			return err
		}
		if err := m.faults.portError(req.Spec.Ports); err != nil {
			return err
		}
		pids := pidCounter{next: m.nextPID}
		inside, worker := startProcesses(req.Isolation, id, req.Spec.Command, &pids)
		r := &systemRecord{
			ID:        id,
			Name:      req.Name,
			Owner:     req.Owner,
			Isolation: req.Isolation,
			Image:     req.Spec.Image,
			State:     driver.StateRunning,
			SpecHash:  req.SpecHash,
			Created:   time.Now().UTC(),
			HostOS:    spec.OSVersion{Build: m.host.Build, Revision: m.host.Revision},
			RecordDetail: &RecordDetail{
				Processes: inside,
				VMWorker:  worker,
				Spec:      req.Spec,
			},
		}
		if err := commit(entry{Op: opPut, System: r, NextPID: pids.next}); err != nil {
			return err
		}
		sys = r.system()
		return nil
	})
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", id, err)
	}
	h.log.Debug("created system", zap.String("id", id), zap.String("owner", req.Owner),
		zap.String("isolation", string(req.Isolation)), zap.String("image", req.Spec.Image))
	return sys, nil
}

// refuseIncompatible is HCS's refusal, with its own words, of an image the
// host cannot run in isolation iso; nil when it can.
func refuseIncompatible(host spec.Host, img spec.ImageVersion, iso spec.Isolation) error {
	c := spec.CheckCompatibility(host, img, iso)
	if c.Verdict != spec.Incompatible {
		return nil
	}
	words := spec.HCSOSMismatch
	if iso == spec.IsolationHyperV && !host.HyperV {
		words = hcsNoHyperV
	}
	if strings.Contains(c.Message, words) { // the message quotes HCS already
		return fmt.Errorf("%w: %s", driver.ErrIncompatible, c.Message)
	}
	return fmt.Errorf("%w: %s: %s", driver.ErrIncompatible, words, c.Message)
}

// PrepareImage emulates an image pull: it refuses what Create would refuse
// of req's image (an isolation that is not resolved, a malformed
// spec.osVersion, an image the host cannot run in that isolation mode, an
// image in Faults.FailImages: the registry is asked each time, as tags
// move) and, when the host does not have the image yet, takes
// Faults.PullLatency (slept without the lock; ctx ends it, and then the
// image is not pulled) and records the image as present, so that it is
// not pulled again. See driver.ImagePreparer.
func (h *EmulatedHost) PrepareImage(ctx context.Context, req driver.CreateRequest) error {
	img, err := checkRequest(req)
	if err == nil {
		err = h.pull(ctx, req, img)
	}
	if err != nil {
		return fmt.Errorf("prepare image: %w", err)
	}
	return nil
}

// pull is PrepareImage's pull of req's image, whose OS version is img.
func (h *EmulatedHost) pull(ctx context.Context, req driver.CreateRequest, img spec.ImageVersion) error {
	image := req.Spec.Image
	check := func(m *model) error {
		if err := m.faults.pullError(image); err != nil {
			return err
		}
		return refuseIncompatible(m.host, img, req.Isolation)
	}
	present := false
	err := h.sleepLatency(ctx, func(m *model) (time.Duration, error) {
		present = m.images[image]
		if err := check(m); err != nil || present {
			return 0, err
		}
		return m.faults.PullLatency, nil
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("pull %s: %w", image, err)
	}
	if err != nil || present {
		return err
	}
	err = h.st.update(ctx, func(m *model, commit func(entry) error) error {
		if err := check(m); err != nil || m.images[image] {
			return err
		}
		return commit(entry{Op: opImage, Image: image})
	})
	if err != nil {
		return err
	}
	h.log.Debug("pulled image", zap.String("image", image))
	return nil
}

// CreatedWith returns the request the system with this ID was created
// with, as its state records it; driver.ErrNotFound when there is no such
// system. See driver.RequestReader.
func (h *EmulatedHost) CreatedWith(ctx context.Context, id string) (driver.CreateRequest, error) {
	var req driver.CreateRequest
	err := h.readSystem(ctx, "created with", id, func(r *systemRecord) error {
		var err error
		req, err = r.request()
		return err
	})
	if err != nil {
		return driver.CreateRequest{}, err
	}
	return req, nil
}

// readSystem runs fn on the record, decoded in full, of the system with
// this ID under the read lock; driver.ErrNotFound when there is none. Errors say op and id.
func (h *EmulatedHost) readSystem(ctx context.Context, op, id string, fn func(r *systemRecord) error) error {
	err := h.st.read(ctx, func(m *model) error {
		r, ok := m.systems[id]
		if !ok {
			return driver.ErrNotFound
		}
		if err := r.full(); err != nil {
			return err
		}
		return fn(r)
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	return nil
}

// checkRequest refuses what HCS would refuse before looking at the host,
// and resolves the image's OS version.
func checkRequest(req driver.CreateRequest) (spec.ImageVersion, error) {
	if req.Name == "" {
		return spec.ImageVersion{}, errors.New("no container name")
	}
	if req.Isolation != spec.IsolationProcess && req.Isolation != spec.IsolationHyperV {
		return spec.ImageVersion{}, fmt.Errorf("isolation %q: want %s or %s", req.Isolation, spec.IsolationProcess, spec.IsolationHyperV)
	}
	if req.ImageVersion.Known {
		return req.ImageVersion, nil
	}
	img, err := spec.ImageOSVersion(req.Spec.Image, req.Spec.OSVersion)
	if err != nil {
		return spec.ImageVersion{}, fmt.Errorf("image %s: %w", req.Spec.Image, err)
	}
	return img, nil
}

// Remove stops and deletes the compute system with this ID. The emulated
// shutdown is immediate, so grace is never waited for. Errors:
// driver.ErrNotFound when there is no such system, driver.ErrTransient
// while injected transient failures last. The injected latency is slept
// without the lock first.
func (h *EmulatedHost) Remove(ctx context.Context, id string, grace time.Duration) error {
	if err := h.sleepLatency(ctx, func(m *model) (time.Duration, error) { return m.faults.Latency, nil }); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	err := h.st.update(ctx, func(m *model, commit func(entry) error) error {
		if err := h.consumeTransient(m, commit); err != nil {
			return err
		}
		if _, ok := m.systems[id]; !ok {
			return driver.ErrNotFound
		}
		return commit(entry{Op: opDelete, ID: id})
	})
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	h.log.Debug("removed system", zap.String("id", id), zap.Duration("grace", grace))
	return nil
}

// Processes returns the processes of the system with this ID as seen from
// inside it and from the host; both are empty once it stopped.
// driver.ErrNotFound when there is no such system.
func (h *EmulatedHost) Processes(ctx context.Context, id string) (driver.ProcessView, error) {
	var view driver.ProcessView
	err := h.readSystem(ctx, "processes", id, func(r *systemRecord) error {
		view = r.processView()
		return nil
	})
	if err != nil {
		return driver.ProcessView{}, err
	}
	return view, nil
}

// sleepLatency sleeps the latency that latency reads from the state (under
// the shared lock), holding no lock, or until ctx is done. An error of
// latency is returned before any sleep.
func (h *EmulatedHost) sleepLatency(ctx context.Context, latency func(m *model) (time.Duration, error)) error {
	var d time.Duration
	if err := h.st.read(ctx, func(m *model) error {
		var err error
		d, err = latency(m)
		return err
	}); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// consumeTransient fails the call with driver.ErrTransient, and records one
// fewer pending failure, while injected transient failures last.
func (h *EmulatedHost) consumeTransient(m *model, commit func(entry) error) error {
	if m.faults.TransientFailures <= 0 {
		return nil
	}
	f := m.faults
	f.TransientFailures--
	if err := commit(entry{Op: opFaults, Faults: &f}); err != nil {
		return err
	}
	h.log.Debug("injected transient failure", zap.Int("left", f.TransientFailures))
	return fmt.Errorf("%w: injected: the host is busy", driver.ErrTransient)
}

// SetHost changes the emulated host, as an OS upgrade or a role change
// would. Running systems are left as they are. The host needs a build and
// a valid SKU. Idempotent.
func (h *EmulatedHost) SetHost(ctx context.Context, host spec.Host) error {
	if host.Build == 0 {
		return errors.New("set host: build must be > 0")
	}
	if host.SKU != spec.SKUServer && host.SKU != spec.SKUClient {
		return fmt.Errorf("set host: sku %q: want %s or %s", host.SKU, spec.SKUServer, spec.SKUClient)
	}
	err := h.st.update(ctx, func(_ *model, commit func(entry) error) error {
		return commit(entry{Op: opHost, Host: &host})
	})
	if err != nil {
		return fmt.Errorf("set host: %w", err)
	}
	h.log.Debug("set host", zap.Stringer("host", host), zap.Bool("hyperv", host.HyperV))
	return nil
}

// Kill makes the main process of the system named nameOrID (an ID, or a
// name only one system carries) exit with exitCode, behind its owner's
// back: the system stops (State stopped, ExitCode set) and its processes,
// and a Hyper-V system's vmwp.exe, are gone. driver.ErrNotFound when no
// system matches; a plain error when it is not running.
func (h *EmulatedHost) Kill(ctx context.Context, nameOrID string, exitCode int) error {
	var id string
	err := h.st.update(ctx, func(m *model, commit func(entry) error) error {
		r, err := m.lookup(nameOrID)
		if err != nil {
			return err
		}
		if r.State != driver.StateRunning {
			return fmt.Errorf("%s is not running (state %s)", r.ID, r.State)
		}
		if err := r.full(); err != nil {
			return err
		}
		stopped := *r
		stopped.State = driver.StateStopped
		stopped.ExitCode = exitCode
		// A detail of its own: r's is left as it is.
		stopped.RecordDetail = &RecordDetail{Processes: []driver.Process{}, Spec: r.Spec}
		id = r.ID
		return commit(entry{Op: opPut, System: &stopped})
	})
	if err != nil {
		return fmt.Errorf("kill %s: %w", nameOrID, err)
	}
	h.log.Debug("killed system", zap.String("id", id), zap.Int("exitCode", exitCode))
	return nil
}

// Delete makes the system named nameOrID (an ID, or a name only one system
// carries) disappear, as after a host reboot. driver.ErrNotFound when no
// system matches.
func (h *EmulatedHost) Delete(ctx context.Context, nameOrID string) error {
	var id string
	err := h.st.update(ctx, func(m *model, commit func(entry) error) error {
		r, err := m.lookup(nameOrID)
		if err != nil {
			return err
		}
		id = r.ID
		return commit(entry{Op: opDelete, ID: r.ID})
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", nameOrID, err)
	}
	h.log.Debug("deleted system", zap.String("id", id))
	return nil
}

// SetFaults replaces the injected faults; they apply to every process
// sharing the state file from its next call on. The systems of the names
// in f.FailNames that exist now are spared (see Faults.Spared). Idempotent.
func (h *EmulatedHost) SetFaults(ctx context.Context, f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("set faults: %w", err)
	}
	f = f.clone()
	err := h.st.update(ctx, func(m *model, commit func(entry) error) error {
		f.spared = nil
		for _, r := range m.sortedSystems() {
			if slices.Contains(f.FailNames, r.Name) {
				f.spared = append(f.spared, r.ID)
			}
		}
		return commit(entry{Op: opFaults, Faults: &f})
	})
	if err != nil {
		return fmt.Errorf("set faults: %w", err)
	}
	h.log.Debug("set faults", zap.Duration("latency", f.Latency), zap.Duration("pullLatency", f.PullLatency), zap.Int("transientFailures", f.TransientFailures), zap.Strings("failNames", f.FailNames), zap.Strings("spared", f.spared),
		zap.Strings("failImages", f.FailImages), zap.Ints("failPorts", f.FailPorts))
	return nil
}

// Faults reports the injected faults still pending.
func (h *EmulatedHost) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	err := h.st.read(ctx, func(m *model) error {
		f = m.faults.clone()
		return nil
	})
	if err != nil {
		return Faults{}, fmt.Errorf("faults: %w", err)
	}
	return f, nil
}
