package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestTransientFailures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	other := openTestHost(t, path)
	ctx := t.Context()
	existing := mustCreate(t, ctx, h, createReq("existing", spec.IsolationProcess, "nanoserver:ltsc2022"))
	if err := h.SetFaults(ctx, Faults{TransientFailures: 3}); err != nil {
		t.Fatal(err)
	}
	// Consumed one per call, whichever process makes it.
	steps := []struct {
		name    string
		do      func() error
		wantErr error
		left    int
	}{
		{"create fails", func() error {
			_, err := h.Create(ctx, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
			return err
		}, driver.ErrTransient, 2},
		{"remove from another host fails", func() error { return other.Remove(ctx, existing.ID, 0) }, driver.ErrTransient, 1},
		{"even a create that would be refused fails transiently", func() error {
			_, err := other.Create(ctx, createReq("old", spec.IsolationProcess, "nanoserver:ltsc2019"))
			return err
		}, driver.ErrTransient, 0},
		{"create succeeds", func() error {
			_, err := h.Create(ctx, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
			return err
		}, nil, 0},
		{"remove succeeds", func() error { return other.Remove(ctx, existing.ID, 0) }, nil, 0},
	}
	for _, step := range steps {
		checkErr(t, step.do(), step.wantErr)
		f, err := other.Faults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.TransientFailures != step.left {
			t.Errorf("%s: %d transient failures left, want %d", step.name, f.TransientFailures, step.left)
		}
	}
	systems, err := h.List(ctx)
	if err != nil || !slices.Equal(ids(systems), []string{managedID("web")}) {
		t.Errorf("List = %v, %v; want only web", ids(systems), err)
	}
}

func TestFailNames(t *testing.T) {
	h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
	ctx := t.Context()
	if err := h.SetFaults(ctx, Faults{FailNames: []string{"bad"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // permanent: not consumed
		_, err := h.Create(ctx, createReq("bad", spec.IsolationProcess, "nanoserver:ltsc2022"))
		checkErr(t, err, errPlain, "injected")
	}
	mustCreate(t, ctx, h, createReq("good", spec.IsolationProcess, "nanoserver:ltsc2022"))
	systems, err := h.List(ctx)
	if err != nil || !slices.Equal(ids(systems), []string{managedID("good")}) {
		t.Errorf("List = %v, %v; want only good", ids(systems), err)
	}
}

func TestFailNamesSpareWhatRanBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	ctx := t.Context()
	old := mustCreate(t, ctx, h, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
	if err := h.SetFaults(ctx, Faults{FailNames: []string{"web", "api"}}); err != nil {
		t.Fatal(err)
	}
	other := openTestHost(t, path) // the spared ids are in the state file
	f, err := other.Faults(ctx)
	if err != nil || !slices.Equal(f.Spared(), []string{old.ID}) {
		t.Fatalf("Spared = %v (%v), want [%s]", f.Spared(), err, old.ID)
	}
	newSpec := createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022")
	newSpec.SpecHash = "v1-new"
	steps := []struct {
		name    string
		do      func() error
		wantErr error
	}{
		{"a new spec of web fails", func() error { _, err := other.Create(ctx, newSpec); return err }, errPlain},
		{"a new container api fails", func() error {
			_, err := other.Create(ctx, createReq("api", spec.IsolationProcess, "nanoserver:ltsc2022"))
			return err
		}, errPlain},
		{"the old web goes", func() error { return other.Remove(ctx, old.ID, 0) }, nil},
		{"the old spec of web comes back", func() error {
			_, err := other.Create(ctx, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
			return err
		}, nil},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) { checkErr(t, step.do(), step.wantErr) })
	}
	if systems, err := h.List(ctx); err != nil || !slices.Equal(ids(systems), []string{old.ID}) {
		t.Errorf("List = %v (%v), want [%s]", ids(systems), err, old.ID)
	}
}

func TestFailImagesAndPorts(t *testing.T) {
	const bad, good = "registry.example/app:broken", "nanoserver:ltsc2022"
	withPort := func(req driver.CreateRequest, port int) driver.CreateRequest {
		req.Spec.Ports = []spec.Port{{HostPort: port, ContainerPort: 80}}
		return req
	}
	tests := []struct {
		name        string
		req         driver.CreateRequest
		wantPrepare error
		wantCreate  error
		wantWords   []string
	}{
		{name: "an image whose pull fails", req: createReq("web", spec.IsolationProcess, bad),
			wantPrepare: errPlain, wantCreate: errPlain, wantWords: []string{"pull " + bad + ": injected failure"}},
		{name: "a taken host port", req: withPort(createReq("web", spec.IsolationProcess, good), 8080),
			wantCreate: errPlain, wantWords: []string{"HNS failed with error : The object already exists", "host port 8080 is taken"}},
		{name: "another host port", req: withPort(createReq("web", spec.IsolationProcess, good), 8081)},
		{name: "an image the host cannot run", req: createReq("web", spec.IsolationProcess, "nanoserver:ltsc2019"),
			wantPrepare: driver.ErrIncompatible, wantCreate: driver.ErrIncompatible, wantWords: []string{spec.HCSOSMismatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			ctx := t.Context()
			if err := h.SetFaults(ctx, Faults{FailImages: []string{bad}, FailPorts: []int{8080}}); err != nil {
				t.Fatal(err)
			}
			for range 2 { // permanent: not consumed
				err := h.PrepareImage(ctx, tt.req)
				if tt.wantPrepare != nil {
					checkErr(t, err, tt.wantPrepare, tt.wantWords...)
				} else {
					checkErr(t, err, nil)
				}
			}
			systems, err := h.List(ctx)
			if err != nil || len(systems) != 0 {
				t.Fatalf("PrepareImage created %v (%v)", ids(systems), err)
			}
			for range 2 {
				_, err := h.Create(ctx, tt.req)
				checkErr(t, err, tt.wantCreate, tt.wantWords...)
				if tt.wantCreate == nil {
					break
				}
			}
			wantIDs := []string{}
			if tt.wantCreate == nil {
				wantIDs = []string{managedID("web")}
			}
			if systems, err := h.List(ctx); err != nil || !slices.Equal(ids(systems), wantIDs) {
				t.Errorf("List = %v, %v; want %v", ids(systems), err, wantIDs)
			}
		})
	}
}

func TestCreatedWith(t *testing.T) {
	h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
	ctx := t.Context()
	req := createReq("web", spec.IsolationHyperV, "nanoserver:ltsc2022")
	req.Spec.Env = map[string]string{"A": "1"}
	req.Spec.Ports = []spec.Port{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}
	sys := mustCreate(t, ctx, h, req)
	got, err := h.CreatedWith(ctx, sys.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, req) {
		t.Fatalf("CreatedWith = %+v, want %+v", got, req)
	}
	// What it returns is a copy: changing it changes nothing on the host.
	got.Spec.Env["A"] = "2"
	got.Spec.Ports[0].HostPort = 1
	if again, err := h.CreatedWith(ctx, sys.ID); err != nil || !reflect.DeepEqual(again, req) {
		t.Errorf("CreatedWith after changing its result = %+v, %v; want %+v", again, err, req)
	}
	// A second process sees it from the state file.
	other := openTestHost(t, h.Path())
	if fromFile, err := other.CreatedWith(ctx, sys.ID); err != nil || !reflect.DeepEqual(fromFile, req) {
		t.Errorf("CreatedWith from another process = %+v, %v; want %+v", fromFile, err, req)
	}
}

func TestLatencyOverlaps(t *testing.T) {
	h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
	ctx := t.Context()
	const latency, n = 200 * time.Millisecond, 4
	if err := h.SetFaults(ctx, Faults{Latency: latency}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = h.Create(ctx, createReq(fmt.Sprintf("c%d", i), spec.IsolationProcess, "nanoserver:ltsc2022"))
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if elapsed < latency || elapsed >= n*latency {
		t.Errorf("%d parallel creates with latency %s took %s, want at least the latency and less than %s (overlapping)", n, latency, elapsed, n*latency)
	}
}

func TestContextHonoured(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, h *EmulatedHost)
		call  func(ctx context.Context, h *EmulatedHost) error
	}{
		{name: "create while sleeping the latency", setup: withLatency(time.Minute),
			call: func(ctx context.Context, h *EmulatedHost) error {
				_, err := h.Create(ctx, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
				return err
			}},
		{name: "remove while sleeping the latency", setup: withLatency(time.Minute),
			call: func(ctx context.Context, h *EmulatedHost) error { return h.Remove(ctx, managedID("existing"), 0) }},
		{name: "create while another process holds the lock", setup: holdLock,
			call: func(ctx context.Context, h *EmulatedHost) error {
				_, err := h.Create(ctx, createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"))
				return err
			}},
		{name: "prepare image while sleeping the pull latency", setup: withPullLatency(time.Minute),
			call: func(ctx context.Context, h *EmulatedHost) error {
				return h.PrepareImage(ctx, createReq("web", spec.IsolationProcess, "servercore:ltsc2022"))
			}},
		{name: "create of an image not pulled while sleeping the pull latency", setup: withPullLatency(time.Minute),
			call: func(ctx context.Context, h *EmulatedHost) error {
				_, err := h.Create(ctx, createReq("web", spec.IsolationProcess, "servercore:ltsc2022"))
				return err
			}},
		{name: "list while another process holds the lock", setup: holdLock,
			call: func(ctx context.Context, h *EmulatedHost) error { _, err := h.List(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			h := openTestHost(t, path)
			mustCreate(t, t.Context(), h, createReq("existing", spec.IsolationProcess, "nanoserver:ltsc2022"))
			tt.setup(t, h)
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.call(ctx, h)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want context.DeadlineExceeded", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("returned after %s, want soon after the deadline", elapsed)
			}
			releaseLock(t, path)
			systems, err := h.List(t.Context())
			if err != nil || !slices.Equal(ids(systems), []string{managedID("existing")}) {
				t.Errorf("List = %v, %v; want only existing, unchanged", ids(systems), err)
			}
		})
	}
}

func withLatency(d time.Duration) func(t *testing.T, h *EmulatedHost) {
	return func(t *testing.T, h *EmulatedHost) {
		if err := h.SetFaults(t.Context(), Faults{Latency: d}); err != nil {
			t.Fatal(err)
		}
	}
}

func withPullLatency(d time.Duration) func(t *testing.T, h *EmulatedHost) {
	return func(t *testing.T, h *EmulatedHost) {
		if err := h.SetFaults(t.Context(), Faults{PullLatency: d}); err != nil {
			t.Fatal(err)
		}
	}
}

// heldLocks are the locks holdLock took, by state path.
var heldLocks sync.Map

// holdLock takes the state's lock as another process would.
func holdLock(t *testing.T, h *EmulatedHost) {
	l := flock.New(h.Path() + ".lock")
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	heldLocks.Store(h.Path(), l)
	t.Cleanup(func() { l.Close() })
}

func releaseLock(t *testing.T, path string) {
	if l, ok := heldLocks.LoadAndDelete(path); ok {
		if err := l.(*flock.Flock).Unlock(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSetFaultsValidation(t *testing.T) {
	tests := []struct {
		name    string
		faults  Faults
		wantErr bool
	}{
		{name: "none", faults: Faults{}},
		{name: "all", faults: Faults{Latency: time.Second, TransientFailures: 2, FailNames: []string{"a"}, FailImages: []string{"b:1"}, FailPorts: []int{80}, PullLatency: 3 * time.Second}},
		{name: "negative latency", faults: Faults{Latency: -time.Second}, wantErr: true},
		{name: "negative pull latency", faults: Faults{PullLatency: -time.Second}, wantErr: true},
		{name: "negative transient failures", faults: Faults{TransientFailures: -1}, wantErr: true},
		{name: "port 0", faults: Faults{FailPorts: []int{0}}, wantErr: true},
		{name: "port above 65535", faults: Faults{FailPorts: []int{65536}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			err := h.SetFaults(t.Context(), tt.faults)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SetFaults = %v, wantErr %v", err, tt.wantErr)
			}
			got, err := h.Faults(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := tt.faults
			if tt.wantErr {
				want = Faults{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Faults = %+v, want %+v", got, want)
			}
		})
	}
}

func TestFaultsJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    Faults
		wantErr bool
	}{
		{name: "full", json: `{"latency":"150ms","transientFailures":2,"failNames":["a","b"],"failImages":["c:1"],"failPorts":[8080]}`,
			want: Faults{Latency: 150 * time.Millisecond, TransientFailures: 2, FailNames: []string{"a", "b"}, FailImages: []string{"c:1"}, FailPorts: []int{8080}}},
		{name: "no latency", json: `{"transientFailures":1}`, want: Faults{TransientFailures: 1}},
		{name: "pull latency", json: `{"latency":"0s","transientFailures":0,"pullLatency":"2s"}`, want: Faults{PullLatency: 2 * time.Second}},
		{name: "bad latency", json: `{"latency":"soon"}`, wantErr: true},
		{name: "bad pull latency", json: `{"pullLatency":"later"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Faults
			err := json.Unmarshal([]byte(tt.json), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Unmarshal = %+v, want %+v", got, tt.want)
			}
			again, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var back Faults
			if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("round trip %s = %+v, %v", again, back, err)
			}
		})
	}
}
