package drivertest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Harness is what the suite needs of one driver under test.
type Harness struct {
	// Driver is the driver under test.
	Driver driver.Driver
	// Owner is the owner the suite creates systems for; systems of other
	// owners may exist on the host and are left alone (but the suite's
	// "foreign" systems are created with Owner + "-foreign").
	Owner string
	// ProcessImage runs with process isolation on this host;
	// HyperVOnlyImage is of an older build: it runs with hyperv and is
	// refused with process. Empty skips the subtests that need them.
	ProcessImage, HyperVOnlyImage string
	// NoHyperV, when non-nil, returns a driver on a host without Hyper-V
	// (sim only); nil skips that subtest.
	NoHyperV func(t *testing.T) driver.Driver

	// HealthyCheck passes against a running container of ProcessImage
	// created by the suite (running ping); zero means exec
	// `cmd /c exit 0`.
	HealthyCheck spec.Healthcheck
	// Unhealthy returns a check that fails against the running system sys
	// from now on, doing what the driver needs for that (the emulated
	// host sets its health state; HCS returns an exec `cmd /c exit 1`).
	// nil skips the subtests that need a failing check.
	Unhealthy func(t *testing.T, sys driver.System) spec.Healthcheck
	// Stop makes the main process of the running system sys exit and
	// returns once List shows it stopped. nil skips that subtest.
	Stop func(t *testing.T, sys driver.System)
	// SlowPulls makes every pull of an image the host does not have take
	// at least a minute from now on. nil skips the subtests that need a
	// pull in progress.
	SlowPulls func(t *testing.T)
}

// healthyCheck is the harness's passing check, or its default.
func (h Harness) healthyCheck() spec.Healthcheck {
	if h.HealthyCheck.Defined() {
		return h.HealthyCheck
	}
	return spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}}
}

// Timeouts bounding each driver call of the suite and the cleanup of what
// a subtest created.
const (
	callTimeout    = 5 * time.Minute
	cleanupTimeout = 2 * time.Minute
	removeGrace    = 10 * time.Second
)

// Run runs the conformance suite. newHarness is called once per subtest,
// so subtests never see each other's systems; each subtest removes what it
// created.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"Host", testHost},
		{"ListEmpty", testListEmpty},
		{"Create", testCreate},
		{"CreateRecordsHost", testCreateRecordsHost},
		{"CreateExisting", testCreateExisting},
		{"CreateInvalidIsolation", testCreateInvalidIsolation},
		{"CreateCancelled", testCreateCancelled},
		{"ProcessIsolationOlderImage", testProcessIsolationOlderImage},
		{"HyperVOlderImage", testHyperVOlderImage},
		{"HyperVUnavailable", testHyperVUnavailable},
		{"Remove", testRemove},
		{"RemoveNotFound", testRemoveNotFound},
		{"ParallelCreate", testParallelCreate},
		{"ForeignOwner", testForeignOwner},
		{"TwoOwnersOneName", testTwoOwnersOneName},
		{"ProcessesProcessIsolation", testProcessesProcessIsolation},
		{"ProcessesHyperV", testProcessesHyperV},
		{"ProcessesNotFound", testProcessesNotFound},
		{"PrepareImage", testPrepareImage},
		{"PrepareImageIncompatible", testPrepareImageIncompatible},
		{"PrepareImageNotPulledTwice", testPrepareImageNotPulledTwice},
		{"PrepareImageCancelled", testPrepareImageCancelled},
		{"PullsSettle", testPullsSettle},
		{"CheckHealthy", testCheckHealthy},
		{"CheckUnhealthy", testCheckUnhealthy},
		{"CheckHealthStopped", testCheckHealthStopped},
		{"CheckHealthRemoved", testCheckHealthRemoved},
		{"CheckHealthNotFound", testCheckHealthNotFound},
		{"CreatedWith", testCreatedWith},
		{"CreatedWithNotFound", testCreatedWithNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.run(t, &suite{Harness: h})
		})
	}
}

// suite is one subtest's harness plus helpers.
type suite struct {
	Harness
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// request is a create request for a container called name in isolation
// iso running image, with a spec hash derived from the name.
func (s *suite) request(name string, iso spec.Isolation, image string) driver.CreateRequest {
	return driver.CreateRequest{
		Name:      name,
		Owner:     s.Owner,
		SpecHash:  fakeSpecHash(name),
		Isolation: iso,
		Spec: spec.ContainerSpec{
			Image:     image,
			Isolation: iso,
			Command:   []string{"ping", "localhost", "-t"},
		},
	}
}

// fakeSpecHash is a spec hash of the real format ("v1-" and hex) that is
// stable per name.
func fakeSpecHash(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	return fmt.Sprintf("v1-%016x", h.Sum64())
}

// create creates req on d, failing the test on error, and removes the
// system when the test ends.
func (s *suite) create(t *testing.T, d driver.Driver, req driver.CreateRequest) driver.System {
	t.Helper()
	sys, err := d.Create(s.ctx(t), req)
	if err != nil {
		t.Fatalf("Create(%s, %s): %v", req.Name, req.Isolation, err)
	}
	removeAtEnd(t, d, sys.ID)
	return sys
}

// removeAtEnd removes id from d when the test ends, if it still exists.
func removeAtEnd(t *testing.T, d driver.Driver, id string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := d.Remove(ctx, id, removeGrace); err != nil && !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("cleanup: Remove(%s): %v", id, err)
		}
	})
}

// list returns d's systems, failing the test on error or on an order that
// is not by ID.
func (s *suite) list(t *testing.T, d driver.Driver) []driver.System {
	t.Helper()
	systems, err := d.List(s.ctx(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.IsSortedFunc(systems, func(a, b driver.System) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("List is not sorted by ID: %v", ids(systems))
	}
	return systems
}

func find(systems []driver.System, id string) (driver.System, bool) {
	i := slices.IndexFunc(systems, func(s driver.System) bool { return s.ID == id })
	if i < 0 {
		return driver.System{}, false
	}
	return systems[i], true
}

func ids(systems []driver.System) []string {
	out := make([]string, len(systems))
	for i, s := range systems {
		out[i] = s.ID
	}
	return out
}

// requireNone fails the test when d lists a system with this name.
func (s *suite) requireNone(t *testing.T, d driver.Driver, name string) {
	t.Helper()
	for _, sys := range s.list(t, d) {
		if sys.Name == name {
			t.Errorf("a failed Create left %s (%s) behind", sys.ID, sys.State)
		}
	}
}

func (s *suite) needImage(t *testing.T, image, what string) {
	t.Helper()
	if image == "" {
		t.Skipf("the harness names no %s", what)
	}
}

func (s *suite) needHyperV(t *testing.T) {
	t.Helper()
	host, err := s.Driver.Host(s.ctx(t))
	if err != nil {
		t.Fatalf("Host: %v", err)
	}
	if !host.HyperV {
		t.Skip("the host has no Hyper-V")
	}
}

// checkSystem compares the fields a driver must report for req.
func checkSystem(t *testing.T, where string, got driver.System, req driver.CreateRequest) {
	t.Helper()
	want := driver.System{
		ID:        driver.SystemID(req.Name, req.Owner, req.SpecHash),
		Name:      req.Name,
		Owner:     req.Owner,
		Isolation: req.Isolation,
		State:     driver.StateRunning,
		SpecHash:  req.SpecHash,
	}
	got.Image, got.ExitCode, got.Created, got.HostOS = "", 0, time.Time{}, spec.OSVersion{}
	if got != want {
		t.Errorf("%s = %+v, want %+v", where, got, want)
	}
}

func testHost(t *testing.T, s *suite) {
	host, err := s.Driver.Host(s.ctx(t))
	if err != nil {
		t.Fatalf("Host: %v", err)
	}
	if host.Build == 0 {
		t.Errorf("Host().Build = 0, want the host's OS build")
	}
	if host.SKU != spec.SKUServer && host.SKU != spec.SKUClient {
		t.Errorf("Host().SKU = %q, want %q or %q", host.SKU, spec.SKUServer, spec.SKUClient)
	}
}

func testListEmpty(t *testing.T, s *suite) {
	for _, sys := range s.list(t, s.Driver) {
		if sys.ID == "" {
			t.Errorf("List returned a system without ID: %+v", sys)
		}
		if sys.Owner == s.Owner {
			t.Errorf("List on a fresh harness returned %s of owner %s", sys.ID, s.Owner)
		}
		if sys.Isolation != spec.IsolationProcess && sys.Isolation != spec.IsolationHyperV {
			t.Errorf("List: %s has isolation %q, want process or hyperv", sys.ID, sys.Isolation)
		}
	}
}

func testCreate(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	req := s.request("dt-create", spec.IsolationProcess, s.ProcessImage)
	sys := s.create(t, s.Driver, req)
	checkSystem(t, "Create", sys, req)
	listed, ok := find(s.list(t, s.Driver), sys.ID)
	if !ok {
		t.Fatalf("List does not have %s", sys.ID)
	}
	checkSystem(t, "List", listed, req)
}

// testCreateRecordsHost: a created system carries the host's version at
// create, in Create's result and in List, so that a host patched or
// upgraded since can be named.
func testCreateRecordsHost(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	host, err := s.Driver.Host(s.ctx(t))
	if err != nil {
		t.Fatalf("Host: %v", err)
	}
	want := spec.OSVersion{Build: host.Build, Revision: host.Revision}
	sys := s.create(t, s.Driver, s.request("dt-host-os", spec.IsolationProcess, s.ProcessImage))
	if sys.HostOS != want {
		t.Errorf("Create: HostOS = %v, want the host's %v", sys.HostOS, want)
	}
	listed, ok := find(s.list(t, s.Driver), sys.ID)
	if !ok {
		t.Fatalf("List does not have %s", sys.ID)
	}
	if listed.HostOS != want {
		t.Errorf("List: HostOS = %v, want the host's %v", listed.HostOS, want)
	}
}

func testCreateExisting(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	req := s.request("dt-twice", spec.IsolationProcess, s.ProcessImage)
	sys := s.create(t, s.Driver, req)
	_, err := s.Driver.Create(s.ctx(t), req)
	if !errors.Is(err, driver.ErrAlreadyExists) {
		t.Fatalf("second Create(%s) = %v, want ErrAlreadyExists", sys.ID, err)
	}
	n := 0
	for _, listed := range s.list(t, s.Driver) {
		if listed.ID == sys.ID {
			n++
			checkSystem(t, "List", listed, req)
		}
	}
	if n != 1 {
		t.Errorf("List has %s %d times, want once", sys.ID, n)
	}
}

func testCreateInvalidIsolation(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	for _, iso := range []spec.Isolation{spec.IsolationDefault, "", "vm"} {
		req := s.request("dt-isolation", iso, s.ProcessImage)
		if _, err := s.Driver.Create(s.ctx(t), req); err == nil {
			removeAtEnd(t, s.Driver, driver.SystemID(req.Name, req.Owner, req.SpecHash))
			t.Errorf("Create with isolation %q succeeded, want an error (isolation must be resolved)", iso)
		}
	}
	s.requireNone(t, s.Driver, "dt-isolation")
}

func testCreateCancelled(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := s.request("dt-cancelled", spec.IsolationProcess, s.ProcessImage)
	if _, err := s.Driver.Create(ctx, req); err == nil {
		removeAtEnd(t, s.Driver, driver.SystemID(req.Name, req.Owner, req.SpecHash))
		t.Errorf("Create with a cancelled context succeeded")
	}
	s.requireNone(t, s.Driver, req.Name)
}

func testProcessIsolationOlderImage(t *testing.T, s *suite) {
	s.needImage(t, s.HyperVOnlyImage, "HyperVOnlyImage")
	req := s.request("dt-mismatch", spec.IsolationProcess, s.HyperVOnlyImage)
	_, err := s.Driver.Create(s.ctx(t), req)
	if err == nil {
		removeAtEnd(t, s.Driver, driver.SystemID(req.Name, req.Owner, req.SpecHash))
	}
	if !errors.Is(err, driver.ErrIncompatible) {
		t.Errorf("Create(%s with process isolation) = %v, want ErrIncompatible", s.HyperVOnlyImage, err)
	}
	s.requireNone(t, s.Driver, req.Name)
}

func testHyperVOlderImage(t *testing.T, s *suite) {
	s.needImage(t, s.HyperVOnlyImage, "HyperVOnlyImage")
	s.needHyperV(t)
	req := s.request("dt-hyperv", spec.IsolationHyperV, s.HyperVOnlyImage)
	sys := s.create(t, s.Driver, req)
	checkSystem(t, "Create", sys, req)
	listed, ok := find(s.list(t, s.Driver), sys.ID)
	if !ok {
		t.Fatalf("List does not have %s", sys.ID)
	}
	if listed.Isolation != spec.IsolationHyperV {
		t.Errorf("List: %s has isolation %q, want hyperv", sys.ID, listed.Isolation)
	}
}

func testHyperVUnavailable(t *testing.T, s *suite) {
	if s.NoHyperV == nil {
		t.Skip("the harness has no host without Hyper-V")
	}
	image := cmp.Or(s.HyperVOnlyImage, s.ProcessImage)
	s.needImage(t, image, "image")
	d := s.NoHyperV(t)
	req := s.request("dt-nohyperv", spec.IsolationHyperV, image)
	_, err := d.Create(s.ctx(t), req)
	if err == nil {
		removeAtEnd(t, d, driver.SystemID(req.Name, req.Owner, req.SpecHash))
	}
	if !errors.Is(err, driver.ErrIncompatible) {
		t.Errorf("Create(hyperv) on a host without Hyper-V = %v, want ErrIncompatible", err)
	}
	s.requireNone(t, d, req.Name)
}

func testRemove(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	sys := s.create(t, s.Driver, s.request("dt-remove", spec.IsolationProcess, s.ProcessImage))
	if err := s.Driver.Remove(s.ctx(t), sys.ID, removeGrace); err != nil {
		t.Fatalf("Remove(%s): %v", sys.ID, err)
	}
	if _, ok := find(s.list(t, s.Driver), sys.ID); ok {
		t.Errorf("List still has %s after Remove", sys.ID)
	}
	if err := s.Driver.Remove(s.ctx(t), sys.ID, removeGrace); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("second Remove(%s) = %v, want ErrNotFound", sys.ID, err)
	}
}

func testRemoveNotFound(t *testing.T, s *suite) {
	id := driver.SystemID("dt-never-created", s.Owner, fakeSpecHash("dt-never-created"))
	if err := s.Driver.Remove(s.ctx(t), id, removeGrace); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Remove(%s) = %v, want ErrNotFound", id, err)
	}
}

func testParallelCreate(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	const n = 8
	reqs := make([]driver.CreateRequest, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range reqs {
		reqs[i] = s.request(fmt.Sprintf("dt-parallel-%d", i), spec.IsolationProcess, s.ProcessImage)
		removeAtEnd(t, s.Driver, driver.SystemID(reqs[i].Name, reqs[i].Owner, reqs[i].SpecHash))
		wg.Go(func() {
			_, errs[i] = s.Driver.Create(s.ctx(t), reqs[i])
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("parallel Create: %v", err)
	}
	listed := s.list(t, s.Driver)
	for _, req := range reqs {
		sys, ok := find(listed, driver.SystemID(req.Name, req.Owner, req.SpecHash))
		if !ok {
			t.Errorf("List does not have %s", req.Name)
			continue
		}
		checkSystem(t, "List", sys, req)
	}
}

func testForeignOwner(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	mine := s.request("dt-mine", spec.IsolationProcess, s.ProcessImage)
	foreign := s.request("dt-foreign", spec.IsolationProcess, s.ProcessImage)
	foreign.Owner = s.Owner + "-foreign"
	s.create(t, s.Driver, mine)
	s.create(t, s.Driver, foreign)
	s.requireListed(t, mine, foreign)
}

// requireListed fails the test unless List has a system for each request,
// as checkSystem wants it.
func (s *suite) requireListed(t *testing.T, reqs ...driver.CreateRequest) {
	t.Helper()
	listed := s.list(t, s.Driver)
	for _, req := range reqs {
		sys, ok := find(listed, driver.SystemID(req.Name, req.Owner, req.SpecHash))
		if !ok {
			t.Errorf("List does not have %s of owner %s", req.Name, req.Owner)
			continue
		}
		checkSystem(t, "List", sys, req)
	}
}

// Two owners may each run a container of one name and one spec: their IDs
// differ, both are listed under that name, and removing one leaves the
// other running.
func testTwoOwnersOneName(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	mine := s.request("dt-shared", spec.IsolationProcess, s.ProcessImage)
	theirs := mine
	theirs.Owner = s.Owner + "-other"
	mineSys := s.create(t, s.Driver, mine)
	theirSys := s.create(t, s.Driver, theirs)
	if mineSys.ID == theirSys.ID {
		t.Fatalf("both owners got the id %s", mineSys.ID)
	}
	s.requireListed(t, mine, theirs)
	if err := s.Driver.Remove(s.ctx(t), mineSys.ID, removeGrace); err != nil {
		t.Fatalf("Remove(%s): %v", mineSys.ID, err)
	}
	left, ok := find(s.list(t, s.Driver), theirSys.ID)
	if !ok {
		t.Fatalf("removing %s of owner %s took %s of owner %s with it", mineSys.ID, mine.Owner, theirSys.ID, theirs.Owner)
	}
	checkSystem(t, "List after the other owner's Remove", left, theirs)
}

// processes returns d's process view of id; it skips the test when d is no
// ProcessViewer.
func (s *suite) processes(t *testing.T, id string) driver.ProcessView {
	t.Helper()
	pv, ok := s.Driver.(driver.ProcessViewer)
	if !ok {
		t.Skip("the driver is no ProcessViewer")
	}
	view, err := pv.Processes(s.ctx(t), id)
	if err != nil {
		t.Fatalf("Processes(%s): %v", id, err)
	}
	return view
}

// requireCommand fails the test unless the container runs the request's
// command (ping.exe).
func requireCommand(t *testing.T, view driver.ProcessView) {
	t.Helper()
	if !slices.ContainsFunc(view.Container, func(p driver.Process) bool { return strings.EqualFold(p.Name, "ping.exe") }) {
		t.Errorf("container processes %+v: no ping.exe", view.Container)
	}
}

func testProcessesProcessIsolation(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	if _, ok := s.Driver.(driver.ProcessViewer); !ok {
		t.Skip("the driver is no ProcessViewer")
	}
	sys := s.create(t, s.Driver, s.request("dt-ps-process", spec.IsolationProcess, s.ProcessImage))
	view := s.processes(t, sys.ID)
	requireCommand(t, view)
	onHost := map[uint32]string{}
	for _, p := range view.Host {
		onHost[p.PID] = p.Name
	}
	for _, p := range view.Container {
		if name, ok := onHost[p.PID]; !ok || !strings.EqualFold(name, p.Name) {
			t.Errorf("container process %d %s: the host sees %q under that PID, want the same process", p.PID, p.Name, name)
		}
	}
}

func testProcessesHyperV(t *testing.T, s *suite) {
	image := cmp.Or(s.HyperVOnlyImage, s.ProcessImage)
	s.needImage(t, image, "image")
	if _, ok := s.Driver.(driver.ProcessViewer); !ok {
		t.Skip("the driver is no ProcessViewer")
	}
	s.needHyperV(t)
	sys := s.create(t, s.Driver, s.request("dt-ps-hyperv", spec.IsolationHyperV, image))
	view := s.processes(t, sys.ID)
	requireCommand(t, view)
	if len(view.Host) != 1 || !strings.EqualFold(view.Host[0].Name, "vmwp.exe") {
		t.Fatalf("host processes = %+v, want one vmwp.exe", view.Host)
	}
	worker := view.Host[0].PID
	for _, p := range view.Container {
		if p.PID == worker {
			t.Errorf("container process %d %s has the PID of the host's vmwp.exe", p.PID, p.Name)
		}
	}
}

func testProcessesNotFound(t *testing.T, s *suite) {
	pv, ok := s.Driver.(driver.ProcessViewer)
	if !ok {
		t.Skip("the driver is no ProcessViewer")
	}
	id := driver.SystemID("dt-never-created", s.Owner, fakeSpecHash("dt-never-created"))
	if _, err := pv.Processes(s.ctx(t), id); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Processes(%s) = %v, want ErrNotFound", id, err)
	}
}

// capability returns d as the optional interface T, named name; it skips
// the test when d does not implement it.
func capability[T any](t *testing.T, d driver.Driver, name string) T {
	t.Helper()
	c, ok := d.(T)
	if !ok {
		t.Skipf("the driver is no %s", name)
	}
	return c
}

func testPrepareImage(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	p := capability[driver.ImagePreparer](t, s.Driver, "ImagePreparer")
	req := s.request("dt-prepare", spec.IsolationProcess, s.ProcessImage)
	for i := range 2 { // idempotent
		if err := p.PrepareImage(s.ctx(t), req); err != nil {
			t.Fatalf("PrepareImage #%d: %v", i+1, err)
		}
	}
	s.requireNone(t, s.Driver, req.Name)
	checkSystem(t, "Create after PrepareImage", s.create(t, s.Driver, req), req)
}

func testPrepareImageIncompatible(t *testing.T, s *suite) {
	s.needImage(t, s.HyperVOnlyImage, "HyperVOnlyImage")
	p := capability[driver.ImagePreparer](t, s.Driver, "ImagePreparer")
	req := s.request("dt-prepare-mismatch", spec.IsolationProcess, s.HyperVOnlyImage)
	if err := p.PrepareImage(s.ctx(t), req); !errors.Is(err, driver.ErrIncompatible) {
		t.Errorf("PrepareImage(%s with process isolation) = %v, want ErrIncompatible", s.HyperVOnlyImage, err)
	}
	s.requireNone(t, s.Driver, req.Name)
}

// testPullsSettle: a PullReporter reports no pull before one starts nor
// after PrepareImage returned, as an empty list (JSON [], not null).
func testPullsSettle(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	r := capability[driver.PullReporter](t, s.Driver, "PullReporter")
	p := capability[driver.ImagePreparer](t, s.Driver, "ImagePreparer")
	if got := r.Pulls(); got == nil || len(got) != 0 {
		t.Errorf("Pulls before any pull = %#v, want an empty list", got)
	}
	if err := p.PrepareImage(s.ctx(t), s.request("dt-pulls", spec.IsolationProcess, s.ProcessImage)); err != nil {
		t.Fatalf("PrepareImage: %v", err)
	}
	if got := r.Pulls(); got == nil || len(got) != 0 {
		t.Errorf("Pulls after PrepareImage returned = %+v, want an empty list", got)
	}
}

func testCreatedWith(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	r := capability[driver.RequestReader](t, s.Driver, "RequestReader")
	req := s.request("dt-created-with", spec.IsolationProcess, s.ProcessImage)
	req.Spec.Env = map[string]string{"GREETING": "hello"}
	req.Spec.WorkingDir = `C:\`
	sys := s.create(t, s.Driver, req)
	got, err := r.CreatedWith(s.ctx(t), sys.ID)
	if err != nil {
		t.Fatalf("CreatedWith(%s): %v", sys.ID, err)
	}
	got.ImageVersion = req.ImageVersion // may be unknown, or resolved
	if !reflect.DeepEqual(got, req) {
		t.Fatalf("CreatedWith(%s) = %+v, want %+v", sys.ID, got, req)
	}
	// What it returns creates the same system again: a restore.
	if err := s.Driver.Remove(s.ctx(t), sys.ID, removeGrace); err != nil {
		t.Fatalf("Remove(%s): %v", sys.ID, err)
	}
	if _, err := r.CreatedWith(s.ctx(t), sys.ID); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("CreatedWith(%s) after Remove = %v, want ErrNotFound", sys.ID, err)
	}
	again := s.create(t, s.Driver, got)
	checkSystem(t, "Create(CreatedWith)", again, req)
}

func testCreatedWithNotFound(t *testing.T, s *suite) {
	r := capability[driver.RequestReader](t, s.Driver, "RequestReader")
	id := driver.SystemID("dt-never-created", s.Owner, fakeSpecHash("dt-never-created"))
	if _, err := r.CreatedWith(s.ctx(t), id); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("CreatedWith(%s) = %v, want ErrNotFound", id, err)
	}
}

// testPrepareImageNotPulledTwice: an image prepared once is not fetched
// again: with pulls made slow afterwards, preparing it again, and creating
// from it, do not wait for a pull.
func testPrepareImageNotPulledTwice(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	p := capability[driver.ImagePreparer](t, s.Driver, "ImagePreparer")
	if s.SlowPulls == nil {
		t.Skip("the harness cannot make pulls slow")
	}
	req := s.request("dt-prepare-once", spec.IsolationProcess, s.ProcessImage)
	if err := p.PrepareImage(s.ctx(t), req); err != nil {
		t.Fatalf("PrepareImage: %v", err)
	}
	s.SlowPulls(t)
	// Less than a slow pull takes: a second pull would run out of time.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := p.PrepareImage(ctx, req); err != nil {
		t.Fatalf("PrepareImage of an image already prepared, with pulls slow: %v (pulled again?)", err)
	}
	sys, err := s.Driver.Create(ctx, req)
	if err != nil {
		t.Fatalf("Create of an image already prepared, with pulls slow: %v (pulled again?)", err)
	}
	removeAtEnd(t, s.Driver, sys.ID)
}

// testPrepareImageCancelled: PrepareImage returns ctx's error when ctx is
// done, before it starts or while it pulls, and creates nothing.
func testPrepareImageCancelled(t *testing.T, s *suite) {
	s.needImage(t, s.ProcessImage, "ProcessImage")
	p := capability[driver.ImagePreparer](t, s.Driver, "ImagePreparer")
	req := s.request("dt-prepare-cancelled", spec.IsolationProcess, s.ProcessImage)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.PrepareImage(ctx, req); !errors.Is(err, context.Canceled) {
		t.Errorf("PrepareImage with a cancelled context = %v, want context.Canceled", err)
	}
	if s.SlowPulls != nil {
		s.SlowPulls(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.PrepareImage(ctx, req) }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("PrepareImage cancelled during a slow pull = %v, want context.Canceled", err)
		}
	}
	s.requireNone(t, s.Driver, req.Name)
}

// healthChecker returns the driver as a HealthChecker and a running system
// of ProcessImage named name; it skips the test when the driver is none.
func (s *suite) healthChecker(t *testing.T, name string) (driver.HealthChecker, driver.System) {
	t.Helper()
	s.needImage(t, s.ProcessImage, "ProcessImage")
	hc := capability[driver.HealthChecker](t, s.Driver, "HealthChecker")
	return hc, s.create(t, s.Driver, s.request(name, spec.IsolationProcess, s.ProcessImage))
}

func testCheckHealthy(t *testing.T, s *suite) {
	hc, sys := s.healthChecker(t, "dt-healthy")
	if err := hc.CheckHealth(s.ctx(t), sys.ID, s.healthyCheck()); err != nil {
		t.Errorf("CheckHealth(%s, %s) = %v, want healthy", sys.ID, driver.DescribeCheck(s.healthyCheck()), err)
	}
}

func testCheckUnhealthy(t *testing.T, s *suite) {
	if s.Unhealthy == nil {
		t.Skip("the harness cannot make a check fail")
	}
	hc, sys := s.healthChecker(t, "dt-unhealthy")
	check := s.Unhealthy(t, sys)
	err := hc.CheckHealth(s.ctx(t), sys.ID, check)
	if !errors.Is(err, driver.ErrUnhealthy) {
		t.Fatalf("CheckHealth(%s, %s) = %v, want ErrUnhealthy", sys.ID, driver.DescribeCheck(check), err)
	}
	if !strings.Contains(err.Error(), driver.DescribeCheck(check)) {
		t.Errorf("CheckHealth = %q, want it to name the check %s", err, driver.DescribeCheck(check))
	}
}

func testCheckHealthStopped(t *testing.T, s *suite) {
	if s.Stop == nil {
		t.Skip("the harness cannot stop a container")
	}
	hc, sys := s.healthChecker(t, "dt-health-stopped")
	s.Stop(t, sys)
	if err := hc.CheckHealth(s.ctx(t), sys.ID, s.healthyCheck()); !errors.Is(err, driver.ErrUnhealthy) {
		t.Errorf("CheckHealth of a stopped system = %v, want ErrUnhealthy", err)
	}
}

func testCheckHealthRemoved(t *testing.T, s *suite) {
	hc, sys := s.healthChecker(t, "dt-health-removed")
	if err := s.Driver.Remove(s.ctx(t), sys.ID, removeGrace); err != nil {
		t.Fatalf("Remove(%s): %v", sys.ID, err)
	}
	if err := hc.CheckHealth(s.ctx(t), sys.ID, s.healthyCheck()); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("CheckHealth of a removed system = %v, want ErrNotFound", err)
	}
}

func testCheckHealthNotFound(t *testing.T, s *suite) {
	hc := capability[driver.HealthChecker](t, s.Driver, "HealthChecker")
	id := driver.SystemID("dt-never-created", s.Owner, fakeSpecHash("dt-never-created"))
	if err := hc.CheckHealth(s.ctx(t), id, s.healthyCheck()); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("CheckHealth(%s) = %v, want ErrNotFound", id, err)
	}
}
