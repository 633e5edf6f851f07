//go:build windows

package hcs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/Microsoft/hcsshim"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Driver manages the host's compute systems through HCS. Safe for
// concurrent use. Close it to stop the exit watchers.
type Driver struct {
	opts   Options
	logger *zap.Logger
	store  *layerStore
	images *imageFetcher
	exits  *exitTracker
	rec    *recording // nil unless Options.RecordDir

	mu       sync.Mutex
	handles  map[string]watchedSystem // open handles of watched systems
	creating map[string]bool          // IDs with a Create in flight
	closed   bool
	wg       sync.WaitGroup
}

// watchedSystem is what an exit watcher holds open.
type watchedSystem struct {
	c hcsshim.Container
	p hcsshim.Process // nil when the main process is unknown
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.ProcessViewer = (*Driver)(nil)
	_ driver.ExitWatcher   = (*Driver)(nil)
	_ driver.ImagePreparer = (*Driver)(nil)
	_ driver.RequestReader = (*Driver)(nil)
	_ driver.PullReporter  = (*Driver)(nil)
)

// staleGrace is how old a record of a system the host no longer has must be
// before the driver releases its resources (a create in flight is younger).
const staleGrace = 10 * time.Minute

// New opens the driver: it checks that HCS answers, prepares the layer
// store under opts.DataDir, releases what systems that no longer exist left
// behind, and collects unused layers. Blocks until done or ctx is done.
func New(ctx context.Context, opts Options) (*Driver, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	logger := opts.Logger.Named("hcs")
	keychain, err := loadKeychain(opts.RegistryConfig)
	if err != nil {
		return nil, err
	}
	if err := probeHCS(opts.Owner); err != nil {
		return nil, err
	}
	if err := checkDataDir(opts.DataDir); err != nil {
		return nil, err
	}
	store, err := newLayerStore(opts.DataDir, wclayerImporter{}, logger)
	if err != nil {
		return nil, err
	}
	var rec *recording
	if opts.RecordDir != "" {
		host, err := readHostRegistry()
		if err != nil {
			return nil, err
		}
		if rec, err = startRecording(opts.RecordDir, host, time.Now()); err != nil {
			return nil, err
		}
		logger.Info("recording the host's answers", zap.String("dir", opts.RecordDir))
	}
	d := &Driver{
		rec:    rec,
		opts:   opts,
		logger: logger,
		store:  store,
		images: &imageFetcher{
			puller: &imagePuller{keychain: keychain, retries: defaultRegistryRetries, logger: logger},
			store:  store,
			pulls:  newPullTracker(),
		},
		exits:    newExitTracker(),
		handles:  make(map[string]watchedSystem),
		creating: make(map[string]bool),
	}
	d.releaseStale(ctx)
	if _, err := d.store.collectGarbage(ctx); err != nil {
		logger.Warn("layer garbage collection failed", zap.Error(err))
	}
	return d, nil
}

// Close stops watching exits: it closes the handles the watchers hold,
// which ends their waits, and waits for them. The compute systems keep
// running. It ends a recording (Options.RecordDir) and returns the first
// write of it that failed. Idempotent.
func (d *Driver) Close() error {
	d.mu.Lock()
	d.closed = true
	for _, w := range d.handles {
		if w.p != nil {
			_ = w.p.Close()
		}
		_ = w.c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
	if d.rec != nil {
		return d.rec.stop()
	}
	return nil
}

// Pulls reports the image pulls in progress (driver.PullReporter).
func (d *Driver) Pulls() []driver.PullProgress { return d.images.pulls.snapshot() }

// Host reads the host's build, UBR, SKU and Hyper-V availability from the
// registry.
func (d *Driver) Host(ctx context.Context) (spec.Host, error) {
	if err := ctx.Err(); err != nil {
		return spec.Host{}, err
	}
	v, err := readHostRegistry()
	if err != nil {
		return spec.Host{}, err
	}
	return parseHost(v)
}

// List returns every container compute system of the host, all owners,
// by ID. Systems this driver created are enriched from its records (image,
// creation time, and the isolation they were created with when the live
// entry shows no utility VM: see isolationOf) and exit watchers (exit
// code); state, owner, name and spec hash come from the live host only.
func (d *Driver) List(ctx context.Context) ([]driver.System, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	raw, err := enumerateComputeSystems(computeSystemQuery{})
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	records, err := d.store.records()
	if err != nil {
		d.logger.Warn("records unreadable; listing without image details", zap.Error(err))
	}
	recorded := make(map[string]spec.Isolation, len(records))
	for id, r := range records {
		recorded[id] = r.Isolation
	}
	systems, err := parseComputeSystems(raw, recorded)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	for i := range systems {
		s := &systems[i]
		if r, ok := records[s.ID]; ok {
			s.Image, s.Created, s.HostOS = r.Image, r.Created, r.hostOS()
		}
		if code, ok := d.exits.exitCode(s.ID); ok {
			s.ExitCode = code
		}
	}
	return systems, nil
}

// observe returns one system as List would.
func (d *Driver) observe(ctx context.Context, id string) (driver.System, error) {
	systems, err := d.List(ctx)
	if err != nil {
		return driver.System{}, err
	}
	for _, s := range systems {
		if s.ID == id {
			return s, nil
		}
	}
	return driver.System{}, fmt.Errorf("%s: %w", id, driver.ErrNotFound)
}

// Create pulls the image (the index entry that suits the host), imports
// missing layers, creates the scratch layer and network endpoint, creates
// and starts the compute system and its main process, and watches the
// process. On failure everything made is released. See driver.Driver.
func (d *Driver) Create(ctx context.Context, req driver.CreateRequest) (driver.System, error) {
	id := driver.SystemID(req.Name, req.Owner, req.SpecHash)
	log := d.logger.With(zap.String("id", id), zap.String("name", req.Name))
	iso := req.Isolation
	if iso != spec.IsolationProcess && iso != spec.IsolationHyperV {
		return driver.System{}, fmt.Errorf("create %s: isolation %q is not resolved; want %s or %s",
			req.Name, iso, spec.IsolationProcess, spec.IsolationHyperV)
	}
	host, err := d.Host(ctx)
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	}
	// Refuse what the isolation mode cannot do on this host before pulling;
	// the image's own version is checked once it is known.
	if c := spec.CheckCompatibility(host, spec.ImageVersion{}, iso); c.Verdict == spec.Incompatible {
		return driver.System{}, fmt.Errorf("create %s: %s: %w", req.Name, c.Message, driver.ErrIncompatible)
	}
	plan, err := planEndpoint(req.Spec.Network, req.Spec.Ports)
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	}
	// A second Create of the same ID while one is in flight would share
	// (and, failing, release) the first one's scratch layer and record.
	d.mu.Lock()
	inFlight := d.creating[id]
	d.creating[id] = true
	d.mu.Unlock()
	if inFlight {
		return driver.System{}, fmt.Errorf("create %s: %s is being created: %w", req.Name, id, driver.ErrAlreadyExists)
	}
	defer func() {
		d.mu.Lock()
		delete(d.creating, id)
		d.mu.Unlock()
	}()
	if raw, err := enumerateComputeSystems(computeSystemQuery{IDs: []string{id}}); err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	} else if props, err := decodeProperties(raw); err == nil && len(props) > 0 {
		return driver.System{}, fmt.Errorf("create %s: %s: %w", req.Name, id, driver.ErrAlreadyExists)
	}

	started := time.Now()
	img, err := d.images.puller.resolve(ctx, req.Spec.Image, host, iso, req.ImageVersion)
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	}
	proc, err := buildProcessConfig(req.Spec, img.Config)
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	}
	rec := newSystemRecord(id, req, img, host, d.store.scratchDir(id), started)
	var dirs []string
	err = d.images.importLayers(ctx, img, started, log, func(layerDirs, chain []string) error {
		dirs, rec.Layers = layerDirs, chain
		return d.store.writeRecord(rec)
	})
	if err != nil {
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	}

	sys, err := d.start(ctx, &rec, dirs, plan, req, proc)
	if err != nil {
		if rerr := d.release(rec); rerr != nil {
			log.Warn("cleanup after failed create incomplete", zap.Error(rerr))
		}
		return driver.System{}, fmt.Errorf("create %s: %w", req.Name, err)
	}
	log.Info("compute system created", zap.String("isolation", string(iso)), zap.String("image", req.Spec.Image),
		zap.String("osVersion", rec.OSVersion), zap.Duration("took", time.Since(started)))
	return sys, nil
}

// PrepareImage pulls req's image (the index entry that suits the host),
// checks its os.version against the host and req.Isolation, and imports
// its missing layers. See driver.ImagePreparer.
func (d *Driver) PrepareImage(ctx context.Context, req driver.CreateRequest) error {
	host, err := d.Host(ctx)
	if err == nil {
		err = d.images.prepare(ctx, req, host, d.logger.With(zap.String("name", req.Name)))
	}
	if err != nil {
		return fmt.Errorf("prepare image: %w", err)
	}
	return nil
}

// CreatedWith returns the request the system was created with, from the
// driver's record of it. See driver.RequestReader.
func (d *Driver) CreatedWith(ctx context.Context, id string) (driver.CreateRequest, error) {
	if err := ctx.Err(); err != nil {
		return driver.CreateRequest{}, err
	}
	return d.store.createdWith(id)
}

// start does the HCS half of Create; rec is updated (and saved) as
// resources are made, so release can undo them.
func (d *Driver) start(ctx context.Context, rec *systemRecord, dirs []string, plan endpointPlan,
	req driver.CreateRequest, proc processConfig) (driver.System, error) {
	parents := parentsOf(dirs, len(dirs))
	process := rec.Isolation == spec.IsolationProcess
	var uvm string
	if !process {
		var err error
		if uvm, err = locateUtilityVM(parents); err != nil {
			return driver.System{}, err
		}
	}
	volume, err := createScratch(rec.Scratch, parents, process, d.opts.ScratchSize)
	rec.Activated = process
	if err != nil {
		return driver.System{}, err
	}
	layers, err := layerEntries(parents)
	if err != nil {
		return driver.System{}, err
	}
	endpoints, sharedWith, created, err := attachNetwork(rec.ID, plan)
	rec.Endpoint = created
	if err := errors.Join(err, d.store.writeRecord(*rec)); err != nil {
		return driver.System{}, err
	}
	doc, err := buildContainerConfig(documentInput{
		ID: rec.ID, Name: req.Name, Owner: req.Owner, Isolation: rec.Isolation, Spec: req.Spec,
		Parents: layers, ScratchPath: rec.Scratch, VolumePath: volume, Endpoints: endpoints,
		SharedWith: sharedWith, UtilityVM: uvm, HostCPUs: runtime.NumCPU(),
	})
	if err != nil {
		return driver.System{}, err
	}
	for _, a := range doc.adjusted {
		d.logger.Warn("container document adjusted", zap.String("id", rec.ID), zap.String("change", a))
	}
	cfg, err := toHCS[hcsshim.ContainerConfig](doc)
	if err != nil {
		return driver.System{}, fmt.Errorf("container document: %w", err)
	}
	c, err := hcsshim.CreateContainer(rec.ID, cfg)
	if err != nil {
		return driver.System{}, mapCreateError("create compute system", err, rec.Isolation)
	}
	if err := d.run(c, rec, proc); err != nil {
		if terr := c.Terminate(); hcsshim.IsPending(terr) {
			_ = c.WaitTimeout(d.opts.StopTimeout)
		}
		_ = c.Close()
		return driver.System{}, err
	}
	return d.observe(ctx, rec.ID)
}

// run starts the compute system and its main process, records the PID and
// hands both to an exit watcher.
func (d *Driver) run(c hcsshim.Container, rec *systemRecord, proc processConfig) error {
	if err := c.Start(); err != nil {
		return mapCreateError("start compute system", err, rec.Isolation)
	}
	pc, err := toHCS[hcsshim.ProcessConfig](proc)
	if err != nil {
		return fmt.Errorf("process document: %w", err)
	}
	p, err := c.CreateProcess(pc)
	if err != nil {
		return mapError("start main process", err)
	}
	rec.PID = uint32(p.Pid())
	if err := d.store.writeRecord(*rec); err != nil {
		d.logger.Warn("record of main process not saved", zap.String("id", rec.ID), zap.Error(err))
	}
	d.watch(rec.ID, c, p, false)
	return nil
}

// watch waits, in a goroutine, for the main process p of system id to
// exit (or for the system itself when p is nil), then shuts the system down
// as docker does (a Windows container outlives its main process
// otherwise), records the exit code and notifies the subscriber. gone says
// the main process has already exited (adoptProcessGone): there is nothing
// to wait for. It owns c and p; Close ends it without a notification.
func (d *Driver) watch(id string, c hcsshim.Container, p hcsshim.Process, gone bool) {
	d.mu.Lock()
	if d.closed || !d.exits.begin(id) {
		d.mu.Unlock()
		if p != nil {
			_ = p.Close()
		}
		_ = c.Close()
		return
	}
	d.handles[id] = watchedSystem{c: c, p: p}
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		var waitErr error
		switch {
		case gone:
		case p != nil:
			waitErr = p.Wait()
		default:
			waitErr = c.Wait()
		}
		d.mu.Lock()
		closed := d.closed
		delete(d.handles, id)
		d.mu.Unlock()
		if closed {
			return
		}
		code, known := 0, false
		if p != nil {
			if waitErr == nil {
				if ec, err := p.ExitCode(); err == nil {
					code, known = ec, true
				}
			}
			_ = p.Close()
		}
		if p != nil || gone {
			ctx, cancel := context.WithTimeout(context.Background(), 2*d.opts.StopTimeout)
			err := d.stop(ctx, id, c, d.opts.StopTimeout)
			cancel()
			if err != nil {
				d.logger.Warn("stopping a container whose main process exited failed", zap.String("id", id), zap.Error(err))
			}
		}
		_ = c.Close()
		d.logger.Info("main process exited", zap.String("id", id), zap.Int("exitCode", code), zap.Bool("exitCodeKnown", known))
		d.exits.exited(id, code, known)
	}()
}

// WatchExits calls notify with a system's ID when its main process exits.
// It also adopts the owned running systems that no watcher follows (made by
// an earlier run of the agent), checking again every resync. Returns when
// ctx is done.
func (d *Driver) WatchExits(ctx context.Context, notify func(id string)) {
	d.exits.subscribe(notify)
	defer d.exits.subscribe(nil)
	const resync = 30 * time.Second
	t := time.NewTicker(resync)
	defer t.Stop()
	for {
		d.adopt(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// adopt starts watchers for owned running systems nobody watches.
func (d *Driver) adopt(ctx context.Context) {
	systems, err := d.List(ctx)
	if err != nil {
		d.logger.Warn("exit watch: list failed", zap.Error(err))
		return
	}
	for _, s := range systems {
		if s.Owner != d.opts.Owner || s.State != driver.StateRunning {
			continue
		}
		d.mu.Lock()
		_, watched := d.handles[s.ID]
		d.mu.Unlock()
		if watched || ctx.Err() != nil {
			continue
		}
		c, err := hcsshim.OpenContainer(s.ID)
		if err != nil {
			continue
		}
		d.adoptOne(s.ID, c)
	}
}

// adoptOne opens the recorded main process of running system id (open as
// c) and hands both to a watcher, as adoptionOf decides.
func (d *Driver) adoptOne(id string, c hcsshim.Container) {
	var pid uint32
	if rec, ok, _ := d.store.readRecord(id); ok {
		pid = rec.PID
	}
	var (
		p      hcsshim.Process
		open   *hcsFailure
		listed []processListItem
		listOK bool
	)
	if pid != 0 {
		var err error
		if p, err = c.OpenProcess(int(pid)); err != nil {
			f := failureOf(err)
			open, p = &f, nil
			if list, lerr := c.ProcessList(); lerr == nil {
				listed, listOK = processItems(list), true
			}
		}
	}
	switch adoptionOf(pid, open, listed, listOK) {
	case adoptRetry:
		d.logger.Debug("exit watch: main process not opened; retrying at the next resync", zap.String("id", id), zap.Uint32("pid", pid))
		_ = c.Close()
	case adoptProcessGone:
		d.logger.Info("main process exited while the agent was not watching; stopping the container", zap.String("id", id), zap.Uint32("pid", pid))
		d.watch(id, c, nil, true)
	default:
		d.watch(id, c, p, false)
	}
}

// processItems converts hcsshim's process list.
func processItems(list []hcsshim.ProcessListItem) []processListItem {
	items := make([]processListItem, 0, len(list))
	for _, it := range list {
		items = append(items, processListItem{ProcessID: it.ProcessId, ImageName: it.ImageName})
	}
	return items
}

// Remove shuts the system down gracefully (bounded by grace, else
// Options.StopTimeout), then terminates it, waits, closes it and releases
// its scratch layer, endpoint and record, then collects unused layers. An
// unknown ID gives driver.ErrNotFound (after releasing anything a record
// still names). See driver.Driver.
func (d *Driver) Remove(ctx context.Context, id string, grace time.Duration) error {
	if grace <= 0 {
		grace = d.opts.StopTimeout
	}
	rec, ok, err := d.store.readRecord(id)
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	if !ok {
		rec = systemRecord{ID: id, Scratch: d.store.scratchDir(id), Activated: true}
	}
	c, err := hcsshim.OpenContainer(id)
	if err != nil {
		err = mapError("open compute system", err)
		if errors.Is(err, driver.ErrNotFound) && ok {
			if rerr := d.release(rec); rerr != nil {
				return fmt.Errorf("remove %s: %w", id, rerr)
			}
		}
		return fmt.Errorf("remove %s: %w", id, err)
	}
	stopErr := d.stop(ctx, id, c, grace)
	_ = c.Close()
	if stopErr != nil {
		return fmt.Errorf("remove %s: %w", id, stopErr)
	}
	d.exits.forget(id)
	if err := d.release(rec); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	d.logger.Info("compute system removed", zap.String("id", id))
	if _, err := d.store.collectGarbage(ctx); err != nil {
		d.logger.Warn("layer garbage collection failed", zap.Error(err))
	}
	return nil
}

// stop shuts c (compute system id) down within grace, else terminates it,
// and waits until ctx is done for it to stop. A request or wait that ended
// with the system down counts as stopped (hcsFailure.endsStop); a failure
// is reported only once the host's list confirms that the system is still
// up (stillUp).
func (d *Driver) stop(ctx context.Context, id string, c hcsshim.Container, grace time.Duration) error {
	err := c.Shutdown()
	if hcsshim.IsPending(err) {
		err = waitCtx(ctx, func() error { return c.WaitTimeout(grace) })
	}
	if err == nil || failureOf(err).endsStop() {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d.logger.Info("graceful shutdown did not finish; terminating", zap.String("id", id), zap.Duration("grace", grace), zap.Error(err))
	err = c.Terminate()
	if hcsshim.IsPending(err) {
		err = waitCtx(ctx, c.Wait)
	}
	if err == nil || failureOf(err).endsStop() {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !d.stillUp(id) {
		d.logger.Info("terminate reported a failure but the system is down", zap.String("id", id), zap.Error(err))
		return nil
	}
	return mapError("terminate compute system", err)
}

// stillUp asks HCS whether compute system id is still up (systemStopped);
// true when the host cannot say.
func (d *Driver) stillUp(id string) bool {
	raw, err := enumerateComputeSystems(computeSystemQuery{IDs: []string{id}})
	if err != nil {
		return true
	}
	stopped, err := systemStopped(raw, id)
	return err != nil || !stopped
}

// waitCtx runs a blocking HCS wait and returns early, with ctx's error,
// when ctx is done (the wait then finishes in the background).
func waitCtx(ctx context.Context, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release frees what a system's record names: scratch layer, endpoint and
// the record itself. It keeps the record when something could not be
// freed, so a later pass retries.
func (d *Driver) release(rec systemRecord) error {
	err := errors.Join(
		destroyScratch(rec.Scratch, rec.Activated),
		deleteEndpoint(rec.ID, rec.Endpoint),
	)
	if err != nil {
		return err
	}
	return d.store.deleteRecord(rec.ID)
}

// releaseStale releases the resources of records whose system the host no
// longer has (a reboot removes every compute system).
func (d *Driver) releaseStale(ctx context.Context) {
	raw, err := enumerateComputeSystems(computeSystemQuery{Owners: []string{d.opts.Owner}})
	if err != nil {
		d.logger.Warn("stale record check: list failed", zap.Error(err))
		return
	}
	props, err := decodeProperties(raw)
	if err != nil {
		d.logger.Warn("stale record check: list failed", zap.Error(err))
		return
	}
	live := make(map[string]bool, len(props))
	for _, p := range props {
		live[p.ID] = true
	}
	records, err := d.store.records()
	if err != nil {
		d.logger.Warn("stale record check: records unreadable", zap.Error(err))
		return
	}
	for _, id := range staleRecords(records, live, time.Now(), staleGrace) {
		if ctx.Err() != nil {
			return
		}
		if err := d.release(records[id]); err != nil {
			d.logger.Warn("releasing a vanished system's resources failed", zap.String("id", id), zap.Error(err))
			continue
		}
		d.logger.Info("released the resources of a vanished system", zap.String("id", id))
	}
}

// Processes returns the processes inside the container and what the host
// sees of them. See driver.ProcessViewer.
func (d *Driver) Processes(ctx context.Context, id string) (driver.ProcessView, error) {
	if err := ctx.Err(); err != nil {
		return driver.ProcessView{}, err
	}
	raw, err := enumerateComputeSystems(computeSystemQuery{IDs: []string{id}})
	if err != nil {
		return driver.ProcessView{}, fmt.Errorf("processes of %s: %w", id, err)
	}
	props, err := decodeProperties(raw)
	if err != nil {
		return driver.ProcessView{}, fmt.Errorf("processes of %s: %w", id, err)
	}
	var target *containerProperties
	for i := range props {
		if props[i].ID == id && strings.EqualFold(props[i].SystemType, "Container") {
			target = &props[i]
		}
	}
	if target == nil {
		return driver.ProcessView{}, fmt.Errorf("processes of %s: %w", id, driver.ErrNotFound)
	}
	c, err := hcsshim.OpenContainer(id)
	if err != nil {
		return driver.ProcessView{}, fmt.Errorf("processes of %s: %w", id, mapError("open compute system", err))
	}
	defer c.Close()
	list, err := c.ProcessList()
	if err != nil {
		return driver.ProcessView{}, fmt.Errorf("processes of %s: %w", id, mapError("process list", err))
	}
	inside := containerProcesses(processItems(list))
	table, err := hostProcessTable()
	if err != nil {
		return driver.ProcessView{}, fmt.Errorf("processes of %s: %w", id, err)
	}
	var recorded spec.Isolation
	if rec, ok, err := d.store.readRecord(id); err == nil && ok {
		recorded = rec.Isolation
	}
	iso := isolationOf(*target, recorded)
	return driver.ProcessView{Container: inside, Host: hostView(iso, inside, table, target.RuntimeID)}, nil
}
