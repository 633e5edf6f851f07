package sim

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestCheckHealth(t *testing.T) {
	exec := spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}}
	tcp := spec.Healthcheck{TCP: 80}
	http := spec.Healthcheck{HTTP: spec.HTTPCheck{Path: "/healthz", Port: 8080}}
	const image, other = "app:v1", "app:v2"
	tests := []struct {
		name string
		// settings are applied in order, before create when before is set,
		// else after it.
		settings []HealthSetting
		before   bool
		kill     bool
		remove   bool
		check    spec.Healthcheck
		wantErr  error    // nil: healthy
		wantText []string // in the error
	}{
		{name: "new container: ok", check: exec},
		{name: "name set to fail after create", settings: []HealthSetting{{Name: "web", State: HealthFail}}, check: exec,
			wantErr: driver.ErrUnhealthy, wantText: []string{`exec ["cmd" "/c" "exit 0"]`, "exit code 1", "sim health web fail"}},
		{name: "name set to fail before create", settings: []HealthSetting{{Name: "web", State: HealthFail}}, before: true, check: tcp,
			wantErr: driver.ErrUnhealthy, wantText: []string{"tcp port 80", "connection refused"}},
		{name: "image set to fail", settings: []HealthSetting{{Image: image, State: HealthFail}}, check: http,
			wantErr: driver.ErrUnhealthy, wantText: []string{"http /healthz:8080", "503", "sim health --image app:v1 fail"}},
		{name: "image set to fail before create", settings: []HealthSetting{{Image: image, State: HealthFail}}, before: true, check: exec,
			wantErr: driver.ErrUnhealthy},
		{name: "another image set to fail", settings: []HealthSetting{{Image: other, State: HealthFail}}, check: exec},
		{name: "another name set to fail", settings: []HealthSetting{{Name: "api", State: HealthFail}}, check: exec},
		{name: "fail then ok again", settings: []HealthSetting{{Name: "web", State: HealthFail}, {Name: "web", State: HealthOK}}, check: exec},
		{name: "the name's setting wins over the image's", settings: []HealthSetting{{Image: image, State: HealthFail}, {Name: "web", State: HealthOK}}, check: exec},
		{name: "stopped container fails", kill: true, check: exec,
			wantErr: driver.ErrUnhealthy, wantText: []string{"container is not running", "stopped", "exit code 3"}},
		{name: "removed container: not found", remove: true, check: exec, wantErr: driver.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			set := func() {
				for _, s := range tt.settings {
					if err := h.SetHealth(ctx, s); err != nil {
						t.Fatalf("SetHealth(%+v): %v", s, err)
					}
				}
			}
			if tt.before {
				set()
			}
			sys := mustCreate(t, ctx, h, createReq("web", spec.IsolationProcess, image))
			if !tt.before {
				set()
			}
			if tt.kill {
				if err := h.Kill(ctx, sys.ID, 3); err != nil {
					t.Fatal(err)
				}
			}
			if tt.remove {
				if err := h.Remove(ctx, sys.ID, 0); err != nil {
					t.Fatal(err)
				}
			}
			// Another process sharing the state sees the same.
			for _, d := range []*EmulatedHost{h, openTestHost(t, h.Path())} {
				err := d.CheckHealth(ctx, sys.ID, tt.check)
				if tt.wantErr == nil {
					if err != nil {
						t.Errorf("CheckHealth = %v, want healthy", err)
					}
					continue
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CheckHealth = %v, want %v", err, tt.wantErr)
				}
				for _, want := range tt.wantText {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("CheckHealth = %q, want it to say %q", err, want)
					}
				}
			}
		})
	}
}

func TestCheckHealthRefusals(t *testing.T) {
	h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
	ctx := t.Context()
	sys := mustCreate(t, ctx, h, createReq("web", spec.IsolationProcess, "app:v1"))
	if err := h.CheckHealth(ctx, sys.ID, spec.Healthcheck{Interval: "5s"}); err == nil || errors.Is(err, driver.ErrUnhealthy) {
		t.Errorf("CheckHealth without a check = %v, want a plain error", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.CheckHealth(cancelled, sys.ID, spec.Healthcheck{TCP: 80}); !errors.Is(err, context.Canceled) {
		t.Errorf("CheckHealth with a cancelled ctx = %v, want context.Canceled", err)
	}
	for _, s := range []HealthSetting{{State: HealthFail}, {Name: "a", Image: "b", State: HealthFail}, {Name: "a", State: "sick"}} {
		if err := h.SetHealth(ctx, s); err == nil {
			t.Errorf("SetHealth(%+v) succeeded, want a refusal", s)
		}
	}
	if hs, err := h.Health(ctx); err != nil || len(hs.Names)+len(hs.Images) != 0 {
		t.Errorf("Health after refusals = %+v, %v; want no settings", hs, err)
	}
}

// TestHealthPersists: the settings survive a compaction and a reopen, as
// the state file carries them.
func TestHealthPersists(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	want := HealthStates{Names: map[string]HealthState{"web": HealthFail}, Images: map[string]HealthState{"app:v2": HealthOK}}
	for _, s := range []HealthSetting{{Name: "web", State: HealthFail}, {Image: "app:v2", State: HealthOK}} {
		if err := h.SetHealth(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.st.locked(ctx, true, h.st.compact); err != nil {
		t.Fatal(err)
	}
	got, err := openTestHost(t, path).Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Health after compaction and reopen = %+v, want %+v", got, want)
	}
}

// TestPullOnce: an image is pulled once, by PrepareImage or by the Create
// of a system that runs it; a pull in progress takes the pull latency (a
// short ctx ends it, and nothing is pulled), a present image takes none.
func TestPullOnce(t *testing.T) {
	const slow = time.Hour // never waited for: ctx ends it
	tests := []struct {
		name string
		// pulled pulls (or creates) first, with no latency.
		pulled func(ctx context.Context, h *EmulatedHost) error
		// call runs with the pull latency set and a short ctx.
		call     func(ctx context.Context, h *EmulatedHost) error
		wantSlow bool
	}{
		{name: "prepare, not pulled", call: prepare("app:v2"), wantSlow: true},
		{name: "create, not pulled", call: create("web", "app:v2"), wantSlow: true},
		{name: "prepare after prepare", pulled: prepare("app:v2"), call: prepare("app:v2")},
		{name: "create after prepare", pulled: prepare("app:v2"), call: create("web", "app:v2")},
		{name: "prepare after a create of the image", pulled: create("api", "app:v2"), call: prepare("app:v2")},
		{name: "prepare of another image", pulled: prepare("app:v1"), call: prepare("app:v2"), wantSlow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			if tt.pulled != nil {
				if err := tt.pulled(t.Context(), h); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.SetFaults(t.Context(), Faults{PullLatency: slow}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			err := tt.call(ctx, h)
			if tt.wantSlow != errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("call = %v, want a pull that takes the latency: %v", err, tt.wantSlow)
			}
			if !tt.wantSlow && err != nil {
				t.Fatal(err)
			}
		})
	}
}

func prepare(image string) func(ctx context.Context, h *EmulatedHost) error {
	return func(ctx context.Context, h *EmulatedHost) error {
		return h.PrepareImage(ctx, createReq("web", spec.IsolationProcess, image))
	}
}

func create(name, image string) func(ctx context.Context, h *EmulatedHost) error {
	return func(ctx context.Context, h *EmulatedHost) error {
		_, err := h.Create(ctx, createReq(name, spec.IsolationProcess, image))
		return err
	}
}

// TestPullFailIsPermanent: a pull-fail image fails every preparation and
// create, even one the host has (the registry is asked each time), with a
// registry's words.
func TestPullFailIsPermanent(t *testing.T) {
	ctx := t.Context()
	h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
	if err := prepare("app:v2")(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := h.SetFaults(ctx, Faults{FailImages: []string{"app:v2"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		err := prepare("app:v2")(ctx, h)
		if err == nil || errors.Is(err, driver.ErrTransient) || !strings.Contains(err.Error(), "manifest unknown") {
			t.Errorf("PrepareImage #%d = %v, want a permanent manifest unknown", i+1, err)
		}
	}
	if err := prepare("app:v1")(ctx, h); err != nil {
		t.Errorf("PrepareImage of another image = %v", err)
	}
}

// TestCheckHealthSeesOtherProcesses: a host that checked before (and reads
// its state again only when the files changed) sees what another process
// did since, including after that process compacted the journal.
func TestCheckHealthSeesOtherProcesses(t *testing.T) {
	hc := spec.Healthcheck{TCP: 80}
	tests := []struct {
		name    string
		change  func(ctx context.Context, other *EmulatedHost, id string) error
		wantErr error
	}{
		{name: "health set to fail", wantErr: driver.ErrUnhealthy,
			change: func(ctx context.Context, o *EmulatedHost, _ string) error {
				return o.SetHealth(ctx, HealthSetting{Name: "web", State: HealthFail})
			}},
		{name: "image set to fail", wantErr: driver.ErrUnhealthy,
			change: func(ctx context.Context, o *EmulatedHost, _ string) error {
				return o.SetHealth(ctx, HealthSetting{Image: "app:v1", State: HealthFail})
			}},
		{name: "killed", wantErr: driver.ErrUnhealthy,
			change: func(ctx context.Context, o *EmulatedHost, id string) error { return o.Kill(ctx, id, 1) }},
		{name: "deleted", wantErr: driver.ErrNotFound,
			change: func(ctx context.Context, o *EmulatedHost, id string) error { return o.Delete(ctx, id) }},
		{name: "set to fail, then compacted", wantErr: driver.ErrUnhealthy,
			change: func(ctx context.Context, o *EmulatedHost, _ string) error {
				if err := o.SetHealth(ctx, HealthSetting{Name: "web", State: HealthFail}); err != nil {
					return err
				}
				return o.st.locked(ctx, true, o.st.compact)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "host.json")
			h := openTestHost(t, path)
			sys := mustCreate(t, ctx, h, createReq("web", spec.IsolationProcess, "app:v1"))
			for range 2 { // the second from what was read
				if err := h.CheckHealth(ctx, sys.ID, hc); err != nil {
					t.Fatalf("CheckHealth before the change = %v", err)
				}
			}
			if err := tt.change(ctx, openTestHost(t, path), sys.ID); err != nil {
				t.Fatal(err)
			}
			if err := h.CheckHealth(ctx, sys.ID, hc); !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckHealth after the change = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
