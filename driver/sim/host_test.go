package sim

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gofrs/flock"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

var (
	server2016 = spec.Host{Build: 14393, Revision: 1000, SKU: spec.SKUServer, HyperV: true}
	server2019 = spec.Host{Build: 17763, Revision: 1, SKU: spec.SKUServer, HyperV: true}
	server2022 = defaultHost
	server2025 = spec.Host{Build: 26100, Revision: 1, SKU: spec.SKUServer, HyperV: true}
	noHyperV   = spec.Host{Build: 20348, Revision: 1, SKU: spec.SKUServer}
	win11      = spec.Host{Build: 22631, SKU: spec.SKUClient, HyperV: true}
	win10_1803 = spec.Host{Build: 17134, SKU: spec.SKUClient, HyperV: true}
	win10_22h2 = spec.Host{Build: 19045, SKU: spec.SKUClient, HyperV: true}
)

// errPlain stands for "an error of none of driver's classes".
var errPlain = errors.New("plain error")

func TestCreateCompatibility(t *testing.T) {
	tests := []struct {
		name      string
		host      spec.Host
		iso       spec.Isolation
		image     string
		osVersion string
		known     spec.ImageVersion
		wantErr   error
		wantWords []string
	}{
		{name: "server 2022 runs ltsc2022 with process", host: server2022, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/servercore:ltsc2022"},
		{name: "server 2022 refuses ltsc2019 with process", host: server2022, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/servercore:ltsc2019",
			wantErr: driver.ErrIncompatible, wantWords: []string{spec.HCSOSMismatch, "17763"}},
		{name: "server 2022 runs ltsc2019 with hyperv", host: server2022, iso: spec.IsolationHyperV, image: "mcr.microsoft.com/windows/servercore:ltsc2019"},
		{name: "server 2022 refuses a newer image with hyperv", host: server2022, iso: spec.IsolationHyperV, image: "mcr.microsoft.com/windows/servercore:ltsc2025",
			wantErr: driver.ErrIncompatible, wantWords: []string{spec.HCSOSMismatch, "newer"}},
		{name: "server 2025 runs ltsc2022 with process (stable ABI)", host: server2025, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/nanoserver:ltsc2022"},
		{name: "server 2019 ignores the revision", host: server2019, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/servercore:10.0.17763.5329"},
		{name: "server 2016 needs the same revision", host: server2016, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/servercore:10.0.14393.999",
			wantErr: driver.ErrIncompatible, wantWords: []string{spec.HCSOSMismatch, "revision"}},
		{name: "no Hyper-V refuses hyperv", host: noHyperV, iso: spec.IsolationHyperV, image: "mcr.microsoft.com/windows/servercore:ltsc2022",
			wantErr: driver.ErrIncompatible, wantWords: []string{"Hyper-V is not installed", "0x80370102"}},
		{name: "no Hyper-V still runs process", host: noHyperV, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/servercore:ltsc2022"},
		{name: "windows 11 runs ltsc2022 with process", host: win11, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/nanoserver:ltsc2022"},
		{name: "windows 11 runs ltsc2019 with hyperv", host: win11, iso: spec.IsolationHyperV, image: "mcr.microsoft.com/windows/nanoserver:ltsc2019"},
		{name: "windows 10 1803 has no process isolation", host: win10_1803, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/nanoserver:1803",
			wantErr: driver.ErrIncompatible, wantWords: []string{"17763"}},
		{name: "windows 10 22H2 refuses ltsc2019 with process", host: win10_22h2, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/nanoserver:ltsc2019",
			wantErr: driver.ErrIncompatible, wantWords: []string{spec.HCSOSMismatch}},
		{name: "unknown image version is accepted", host: server2022, iso: spec.IsolationProcess, image: "registry.example.com/app:latest"},
		{name: "spec.osVersion decides", host: server2022, iso: spec.IsolationProcess, image: "registry.example.com/app:latest", osVersion: "10.0.17763",
			wantErr: driver.ErrIncompatible, wantWords: []string{spec.HCSOSMismatch}},
		{name: "a known ImageVersion wins over the tag", host: server2022, iso: spec.IsolationProcess, image: "mcr.microsoft.com/windows/servercore:ltsc2019",
			known: spec.ImageVersion{OSVersion: spec.OSVersion{Build: 20348}, Known: true, From: "image os.version"}},
		{name: "malformed osVersion", host: server2022, iso: spec.IsolationProcess, image: "app:latest", osVersion: "ten", wantErr: errPlain, wantWords: []string{"osVersion"}},
		{name: "default isolation is not resolved", host: server2022, iso: spec.IsolationDefault, image: "nanoserver:ltsc2022", wantErr: errPlain, wantWords: []string{`isolation "default"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			ctx := t.Context()
			if err := h.SetHost(ctx, tt.host); err != nil {
				t.Fatal(err)
			}
			req := createReq("web", tt.iso, tt.image)
			req.Spec.OSVersion = tt.osVersion
			req.ImageVersion = tt.known
			sys, err := h.Create(ctx, req)
			checkErr(t, err, tt.wantErr, tt.wantWords...)
			systems, lerr := h.List(ctx)
			if lerr != nil {
				t.Fatal(lerr)
			}
			wantIDs := []string{}
			if tt.wantErr == nil {
				wantIDs = []string{sys.ID}
			}
			if got := ids(systems); !slices.Equal(got, wantIDs) {
				t.Errorf("List = %v, want %v", got, wantIDs)
			}
		})
	}
}

// checkErr fails the test unless err is of class want (nil: no error;
// errPlain: an error of no class) and says every word.
func checkErr(t *testing.T, err, want error, words ...string) {
	t.Helper()
	classes := []error{driver.ErrNotFound, driver.ErrAlreadyExists, driver.ErrIncompatible, driver.ErrTransient}
	switch {
	case want == nil && err != nil:
		t.Fatalf("err = %v, want none", err)
	case want == nil:
		return
	case err == nil:
		t.Fatalf("err = nil, want %v", want)
	case want == errPlain && slices.ContainsFunc(classes, func(c error) bool { return errors.Is(err, c) }):
		t.Errorf("err = %v, want an error of no class", err)
	case want != errPlain && !errors.Is(err, want):
		t.Errorf("err = %v, want %v", err, want)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %q, want it to say %q", err, w)
		}
	}
}

func TestCreateIdentity(t *testing.T) {
	tests := []struct {
		name         string
		req          driver.CreateRequest
		wantID       string
		wantName     string
		wantSpecHash string
	}{
		{name: "managed", req: createReq("web", spec.IsolationProcess, "nanoserver:ltsc2022"), wantID: managedID("web"), wantName: "web", wantSpecHash: "v1-web"},
		{name: "foreign", req: driver.CreateRequest{Name: "legacy", Owner: "docker", Isolation: spec.IsolationHyperV, Spec: spec.ContainerSpec{Image: "nanoserver:ltsc2019"}},
			wantID: "legacy", wantName: "legacy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			sys := mustCreate(t, t.Context(), h, tt.req)
			systems, err := h.List(t.Context())
			if err != nil || len(systems) != 1 {
				t.Fatalf("List = %v, %v; want one system", systems, err)
			}
			for where, got := range map[string]driver.System{"Create": sys, "List": systems[0]} {
				if got.ID != tt.wantID || got.Name != tt.wantName || got.SpecHash != tt.wantSpecHash || got.Owner != tt.req.Owner ||
					got.Image != tt.req.Spec.Image || got.State != driver.StateRunning || got.Created.IsZero() {
					t.Errorf("%s = %+v, want id %s name %s spec hash %q owner %s image %s, running", where, got, tt.wantID, tt.wantName, tt.wantSpecHash, tt.req.Owner, tt.req.Spec.Image)
				}
			}
			if _, err := h.Create(t.Context(), tt.req); !errors.Is(err, driver.ErrAlreadyExists) {
				t.Errorf("second Create = %v, want ErrAlreadyExists", err)
			}
		})
	}
}

func TestProcesses(t *testing.T) {
	tests := []struct {
		name          string
		iso           spec.Isolation
		command       []string
		wantContainer []string
		wantHost      []string
		wantVMPIDs    bool
	}{
		{name: "process isolation", iso: spec.IsolationProcess, command: []string{"ping", "localhost", "-t"},
			wantContainer: []string{"smss.exe", "CExecSvc.exe", "ping.exe"}, wantHost: []string{"smss.exe", "CExecSvc.exe", "ping.exe"}},
		{name: "process isolation default command", iso: spec.IsolationProcess,
			wantContainer: []string{"smss.exe", "CExecSvc.exe", "cmd.exe"}, wantHost: []string{"smss.exe", "CExecSvc.exe", "cmd.exe"}},
		{name: "hyperv", iso: spec.IsolationHyperV, command: []string{`C:\app\server.exe`, "--port", "80"},
			wantContainer: []string{"smss.exe", "CExecSvc.exe", "server.exe"}, wantHost: []string{"vmwp.exe"}, wantVMPIDs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			h := openTestHost(t, path)
			ctx := t.Context()
			// Another system first, from another EmulatedHost: the host PID
			// counter is shared.
			first := mustCreate(t, ctx, openTestHost(t, path), createReq("first", spec.IsolationProcess, "nanoserver:ltsc2022"))
			req := createReq("web", tt.iso, "nanoserver:ltsc2022")
			req.Spec.Command = tt.command
			sys := mustCreate(t, ctx, h, req)

			view, err := h.Processes(ctx, sys.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(view.Container); !slices.Equal(got, tt.wantContainer) {
				t.Errorf("container processes %v, want %v", got, tt.wantContainer)
			}
			if got := names(view.Host); !slices.Equal(got, tt.wantHost) {
				t.Errorf("host processes %v, want %v", got, tt.wantHost)
			}
			firstView, err := h.Processes(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			hostPIDs := map[uint32]bool{}
			for _, p := range firstView.Host {
				hostPIDs[p.PID] = true
			}
			for _, p := range view.Host {
				if p.PID < firstHostPID || p.PID%pidStep != 0 || hostPIDs[p.PID] {
					t.Errorf("host process %d %s: want a fresh host PID (a multiple of %d from %d)", p.PID, p.Name, pidStep, firstHostPID)
				}
			}
			for i, p := range view.Container {
				if vm := p.PID < firstHostPID; vm != tt.wantVMPIDs {
					t.Errorf("container process %d %s: utility VM PID = %v, want %v", p.PID, p.Name, vm, tt.wantVMPIDs)
				}
				if !tt.wantVMPIDs && view.Host[i] != p {
					t.Errorf("host sees %+v for container process %+v, want the same", view.Host[i], p)
				}
			}
			if cmd := view.Container[len(view.Container)-1].Command; tt.command != nil && cmd != strings.Join(tt.command, " ") {
				t.Errorf("main process command %q, want %q", cmd, strings.Join(tt.command, " "))
			}

			if err := h.Kill(ctx, sys.ID, 1); err != nil {
				t.Fatal(err)
			}
			view, err = h.Processes(ctx, sys.ID)
			if err != nil || len(view.Container) != 0 || len(view.Host) != 0 {
				t.Errorf("after Kill: Processes = %+v, %v; want none", view, err)
			}
		})
	}
}

func names(ps []driver.Process) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func TestExecutableName(t *testing.T) {
	tests := []struct{ program, want string }{
		{"ping", "ping.exe"},
		{`C:\Windows\System32\cmd.exe`, "cmd.exe"},
		{`C:\app\run.bat`, "run.bat"},
		{"powershell", "powershell.exe"},
		{"/app/server", "server.exe"},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			if got := executableName(tt.program); got != tt.want {
				t.Errorf("executableName(%q) = %q, want %q", tt.program, got, tt.want)
			}
		})
	}
}

func TestKillDelete(t *testing.T) {
	tests := []struct {
		name      string
		do        func(ctx context.Context, h *EmulatedHost) error
		wantErr   error
		wantWords []string
		wantIDs   []string
		// check names the system whose state is checked: web when empty.
		check     string
		wantState driver.State
		wantExit  int
	}{
		{name: "kill by name", do: func(ctx context.Context, h *EmulatedHost) error { return h.Kill(ctx, "web", 3) },
			wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy", managedID("web")}, wantState: driver.StateStopped, wantExit: 3},
		{name: "kill by id", do: func(ctx context.Context, h *EmulatedHost) error { return h.Kill(ctx, managedID("web"), -1) },
			wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy", managedID("web")}, wantState: driver.StateStopped, wantExit: -1},
		{name: "kill twice", do: func(ctx context.Context, h *EmulatedHost) error {
			if err := h.Kill(ctx, "web", 3); err != nil {
				return err
			}
			return h.Kill(ctx, "web", 4)
		}, wantErr: errPlain, wantWords: []string{"not running"},
			wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy", managedID("web")}, wantState: driver.StateStopped, wantExit: 3},
		{name: "kill unknown", do: func(ctx context.Context, h *EmulatedHost) error { return h.Kill(ctx, "nope", 1) },
			wantErr: driver.ErrNotFound, wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy", managedID("web")}, wantState: driver.StateRunning},
		{name: "kill ambiguous name", do: func(ctx context.Context, h *EmulatedHost) error { return h.Kill(ctx, "dup", 1) },
			wantErr: errPlain, wantWords: []string{"ambiguous", sysID("dup", "v1-a") + ", " + sysID("dup", "v1-b")},
			wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy", managedID("web")}, wantState: driver.StateRunning},
		{name: "kill foreign", do: func(ctx context.Context, h *EmulatedHost) error { return h.Kill(ctx, "legacy", 0) },
			wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy", managedID("web")}, check: "legacy", wantState: driver.StateStopped},
		{name: "delete by name", do: func(ctx context.Context, h *EmulatedHost) error { return h.Delete(ctx, "web") },
			wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy"}},
		{name: "delete twice", do: func(ctx context.Context, h *EmulatedHost) error {
			if err := h.Delete(ctx, managedID("web")); err != nil {
				return err
			}
			return h.Delete(ctx, managedID("web"))
		}, wantErr: driver.ErrNotFound, wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy"}},
		{name: "delete a stopped system", do: func(ctx context.Context, h *EmulatedHost) error {
			if err := h.Kill(ctx, "web", 3); err != nil {
				return err
			}
			return h.Delete(ctx, "web")
		}, wantIDs: []string{managedID("db"), sysID("dup", "v1-a"), sysID("dup", "v1-b"), "legacy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := openTestHost(t, filepath.Join(t.TempDir(), "host.json"))
			ctx := t.Context()
			for _, req := range []driver.CreateRequest{
				createReq("web", spec.IsolationHyperV, "nanoserver:ltsc2022"),
				createReq("db", spec.IsolationProcess, "nanoserver:ltsc2022"),
				{Name: "dup", SpecHash: "v1-a", Owner: "reconciler", Isolation: spec.IsolationProcess},
				{Name: "dup", SpecHash: "v1-b", Owner: "reconciler", Isolation: spec.IsolationProcess},
				{Name: "legacy", Owner: "docker", Isolation: spec.IsolationProcess},
			} {
				mustCreate(t, ctx, h, req)
			}
			checkErr(t, tt.do(ctx, h), tt.wantErr, tt.wantWords...)
			systems, err := h.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(systems); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("List = %v, want %v", got, tt.wantIDs)
			}
			check := cmp.Or(tt.check, "web")
			i := slices.IndexFunc(systems, func(s driver.System) bool { return s.Name == check })
			if i >= 0 && (systems[i].State != tt.wantState || systems[i].ExitCode != tt.wantExit) {
				t.Errorf("%s = %s exit %d, want %s exit %d", check, systems[i].State, systems[i].ExitCode, tt.wantState, tt.wantExit)
			}
			others := slices.DeleteFunc(systems, func(s driver.System) bool { return s.Name == check })
			if slices.ContainsFunc(others, func(s driver.System) bool { return s.State != driver.StateRunning }) {
				t.Errorf("systems other than %s changed: %+v", check, others)
			}
		})
	}
}

func TestClose(t *testing.T) {
	h, err := Open(filepath.Join(t.TempDir(), "host.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := h.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := h.List(t.Context()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("List after Close = %v, want os.ErrClosed", err)
	}
}

// TestHostOSKeptAcrossHostChanges: a system keeps the host version of its
// create when the host is patched or upgraded afterwards, in the state
// file too (another process reading it sees the same).
func TestHostOSKeptAcrossHostChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	h := openTestHost(t, path)
	ctx := t.Context()
	if err := h.SetHost(ctx, server2019); err != nil {
		t.Fatal(err)
	}
	sys, err := h.Create(ctx, createReq("web", spec.IsolationProcess, "mcr.microsoft.com/windows/servercore:ltsc2019"))
	if err != nil {
		t.Fatal(err)
	}
	patched := server2019
	patched.Revision = 5458
	if err := h.SetHost(ctx, patched); err != nil {
		t.Fatal(err)
	}
	want := spec.OSVersion{Build: server2019.Build, Revision: server2019.Revision}
	for _, reader := range []*EmulatedHost{h, openTestHost(t, path)} {
		systems, err := reader.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(systems) != 1 || systems[0].ID != sys.ID || systems[0].HostOS != want {
			t.Errorf("List = %+v, want %s with HostOS %v (the host at create)", systems, sys.ID, want)
		}
	}
}

// TestSortedSystemsOrder: the order kept between calls (only what was added
// since is sorted and merged in) is the order of a sort from scratch,
// whatever the puts and removes in between: IDs added out of order,
// removed, put again, removed and added back, listed in between or not.
func TestSortedSystemsOrder(t *testing.T) {
	const list = "list"
	tests := []struct {
		name string
		ops  []string // "+id" puts, "-id" removes, list lists
	}{
		{name: "added out of order", ops: []string{"+c", "+a", "+b", list, "+0", "+d", list}},
		{name: "put again", ops: []string{"+b", "+a", list, "+a", "+b", "+c", "+c", list}},
		{name: "removed", ops: []string{"+a", "+b", "+c", list, "-b", list, "-a", "-c", list}},
		{name: "removed then added back", ops: []string{"+a", "+b", list, "-b", "+b", "-a", list, "+a", "-a", "+a", list}},
		{name: "added then removed before a list", ops: []string{"+a", list, "+b", "-b", "+c", list}},
		{name: "removing what is not there", ops: []string{"-x", "+a", "-y", list}},
		{name: "every one removed", ops: []string{"+a", "+b", list, "-a", "-b", list, "+c", list}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel("host")
			for i, op := range tt.ops {
				switch {
				case op == list:
				case op[0] == '+':
					m.put(&systemRecord{ID: op[1:], RecordDetail: &RecordDetail{}})
				default:
					m.remove(op[1:])
				}
				if op != list && i+1 < len(tt.ops) {
					continue
				}
				var got []string
				for _, r := range m.sortedSystems() {
					got = append(got, r.ID)
				}
				want := slices.Sorted(maps.Keys(m.systems))
				if !slices.Equal(got, want) {
					t.Errorf("after %v: sortedSystems = %v, want %v", tt.ops[:i+1], got, want)
				}
			}
		})
	}
}

// TestListSeesOtherProcesses: a host that listed before (and, while the
// files do not change, lists what it read without taking the lock) lists
// what another process did since, as a host opened afterwards does.
func TestListSeesOtherProcesses(t *testing.T) {
	tests := []struct {
		name   string
		change func(ctx context.Context, t *testing.T, other *EmulatedHost)
	}{
		{name: "created, sorting first", change: func(ctx context.Context, t *testing.T, o *EmulatedHost) {
			mustCreate(t, ctx, o, createReq("aaa", spec.IsolationProcess, "app:v1"))
		}},
		{name: "killed", change: func(ctx context.Context, t *testing.T, o *EmulatedHost) {
			if err := o.Kill(ctx, "web", 3); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "deleted", change: func(ctx context.Context, t *testing.T, o *EmulatedHost) {
			if err := o.Delete(ctx, "web"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "deleted and created again", change: func(ctx context.Context, t *testing.T, o *EmulatedHost) {
			if err := o.Delete(ctx, "web"); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, ctx, o, createReq("web", spec.IsolationHyperV, "app:v1"))
		}},
		{name: "created, then compacted", change: func(ctx context.Context, t *testing.T, o *EmulatedHost) {
			mustCreate(t, ctx, o, createReq("zzz", spec.IsolationProcess, "app:v1"))
			compactNow(t, o)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "host.json")
			h := openTestHost(t, path)
			for _, name := range []string{"web", "db", "api"} {
				mustCreate(t, ctx, h, createReq(name, spec.IsolationProcess, "app:v1"))
			}
			before := mustList(t, h)
			// Nothing changed: listed from what was read, while another
			// process holds the lock (a List that waited would hang here).
			lock := flock.New(h.Path() + ".lock")
			if err := lock.Lock(); err != nil {
				t.Fatal(err)
			}
			if again := mustList(t, h); !slices.Equal(again, before) {
				t.Errorf("List again = %v, want %v", again, before)
			}
			if err := lock.Unlock(); err != nil {
				t.Fatal(err)
			}
			tt.change(ctx, t, openTestHost(t, path))
			got, want := mustList(t, h), mustList(t, openTestHost(t, path))
			if !slices.Equal(got, want) || slices.Equal(got, before) {
				t.Errorf("List after the change = %v, want %v (before: %v)", got, want, before)
			}
		})
	}
}

func mustList(t *testing.T, h *EmulatedHost) []driver.System {
	t.Helper()
	list, err := h.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return list
}
