package hcs

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/golden"
	"github.com/reconciler/reconciler/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenFile compares got with testdata/name, or rewrites it under -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got, *update)
}

// Layer folders as the driver names them on a host with
// DataDir C:\ProgramData\reconciler.
var (
	testParents = []layerEntry{
		{ID: "4d6b1d7e-6a0c-5a5e-9d3b-2f6f3c0b1a11", Path: `C:\ProgramData\reconciler\layers\9f1c2e`},
		{ID: "0b8e5f22-7d13-5c4f-8a61-3e2d1c0b9a22", Path: `C:\ProgramData\reconciler\layers\5a7d3b`},
	}
	testScratch = `C:\ProgramData\reconciler\scratch\web_v1-0123abcd`
	testVolume  = `\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}`
)

func baseInput(iso spec.Isolation) documentInput {
	in := documentInput{
		ID:          "web_v1-0123abcd",
		Name:        "web",
		Owner:       "reconciler",
		Isolation:   iso,
		Spec:        spec.ContainerSpec{Image: "mcr.microsoft.com/windows/servercore:ltsc2022"},
		Parents:     testParents,
		ScratchPath: testScratch,
		HostCPUs:    4,
	}
	if iso == spec.IsolationProcess {
		in.VolumePath = testVolume
	}
	if iso == spec.IsolationHyperV {
		in.UtilityVM = windowsJoin(testParents[len(testParents)-1].Path, "UtilityVM")
	}
	return in
}

func withSpec(in documentInput, edit func(*spec.ContainerSpec)) documentInput {
	edit(&in.Spec)
	return in
}

func TestBuildContainerConfigGolden(t *testing.T) {
	full := func(s *spec.ContainerSpec) {
		s.Hostname = "web-01"
		s.Resources = spec.Resources{CPUCount: 2, CPUMaximumPercent: 50, MemoryMB: 1024}
		s.Mounts = []spec.Mount{
			{HostPath: `C:\data`, ContainerPath: `C:\data`, ReadOnly: true},
			{HostPath: `D:\logs`, ContainerPath: `C:\logs`},
		}
		s.NamedPipes = []spec.NamedPipe{{HostPipe: `\\.\pipe\docker_engine`, ContainerPipe: `\\.\pipe\docker_engine`}}
	}
	tests := []struct {
		name string
		in   documentInput
	}{
		{"process-minimal", baseInput(spec.IsolationProcess)},
		{"hyperv-minimal", baseInput(spec.IsolationHyperV)},
		{"process-full", func() documentInput {
			in := withSpec(baseInput(spec.IsolationProcess), full)
			in.Spec.Devices = []spec.Device{{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"}}
			in.Endpoints = []string{"eef2649d-bb17-4d53-9937-295a8efe6f2c"}
			return in
		}()},
		{"hyperv-full", func() documentInput {
			in := withSpec(baseInput(spec.IsolationHyperV), full)
			in.Endpoints = []string{"e1bb1e61-d56f-405e-b75d-fd520cefa0cb"}
			return in
		}()},
		{"process-namespace", func() documentInput {
			in := baseInput(spec.IsolationProcess)
			in.Endpoints = []string{"a1", "b2"}
			in.SharedWith = "pause_v1-1111"
			return in
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := buildContainerConfig(tt.in)
			if err != nil {
				t.Fatalf("buildContainerConfig: %v", err)
			}
			got, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			goldenFile(t, filepath.Join("document", tt.name+".json"), append(got, '\n'))
		})
	}
}

func TestBuildContainerConfigFields(t *testing.T) {
	hv, err := buildContainerConfig(baseInput(spec.IsolationHyperV))
	if err != nil {
		t.Fatal(err)
	}
	if !hv.HvPartition || hv.HvRuntime == nil || hv.HvRuntime.ImagePath != `C:\ProgramData\reconciler\layers\5a7d3b\UtilityVM` {
		t.Errorf("hyperv: HvPartition %v HvRuntime %+v, want the UtilityVM it was given", hv.HvPartition, hv.HvRuntime)
	}
	if hv.VolumePath != "" {
		t.Errorf("hyperv: VolumePath = %q, want none", hv.VolumePath)
	}
	pr, err := buildContainerConfig(withSpec(baseInput(spec.IsolationProcess), func(s *spec.ContainerSpec) {
		s.Resources = spec.Resources{CPUMaximumPercent: 100}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if pr.HvPartition || pr.HvRuntime != nil || pr.VolumePath != testVolume || pr.LayerFolderPath != testScratch {
		t.Errorf("process: %+v", pr)
	}
	if pr.ProcessorMaximum != 10000 {
		t.Errorf("cpuMaximumPercent 100 → ProcessorMaximum %d, want 10000", pr.ProcessorMaximum)
	}
	if pr.HostName != "web" {
		t.Errorf("HostName = %q, want the container name by default", pr.HostName)
	}
	if !reflect.DeepEqual(pr.Layers, testParents) {
		t.Errorf("Layers = %+v, want the parents in the given order (nearest first)", pr.Layers)
	}
}

func TestLocateUtilityVM(t *testing.T) {
	root := t.TempDir()
	layer := func(name string, uvm bool) string {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if uvm {
			if err := os.Mkdir(filepath.Join(dir, "UtilityVM"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	app, patch, base := layer("app", false), layer("patch", true), layer("base", true)
	bare := layer("bare", false)
	tests := []struct {
		name      string
		parents   []string
		want      string
		wantClass error
	}{
		{"uppermost layer with one wins over the base", []string{app, patch, base}, filepath.Join(patch, "UtilityVM"), nil},
		{"base only", []string{app, base}, filepath.Join(base, "UtilityVM"), nil},
		{"a single base layer", []string{base}, filepath.Join(base, "UtilityVM"), nil},
		{"none has one", []string{app, bare}, "", driver.ErrIncompatible},
		{"no layers", nil, "", driver.ErrIncompatible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := locateUtilityVM(tt.parents)
			if got != tt.want {
				t.Errorf("locateUtilityVM = %q, want %q", got, tt.want)
			}
			if (err != nil) != (tt.wantClass != nil) || (tt.wantClass != nil && !errors.Is(err, tt.wantClass)) {
				t.Errorf("err = %v, want class %v", err, tt.wantClass)
			}
		})
	}
}

func TestSetResources(t *testing.T) {
	tests := []struct {
		name         string
		iso          spec.Isolation
		r            spec.Resources
		hostCPUs     int
		wantCount    uint32
		wantMax      int64
		wantAdjusted int
	}{
		{"count and maximum: process keeps the count", spec.IsolationProcess, spec.Resources{CPUCount: 2, CPUMaximumPercent: 50}, 4, 2, 0, 1},
		{"count and maximum: hyperv keeps both", spec.IsolationHyperV, spec.Resources{CPUCount: 2, CPUMaximumPercent: 50}, 4, 2, 5000, 0},
		{"maximum alone", spec.IsolationProcess, spec.Resources{CPUMaximumPercent: 25}, 4, 0, 2500, 0},
		{"count above the host is clamped (process)", spec.IsolationProcess, spec.Resources{CPUCount: 16}, 4, 4, 0, 1},
		{"count above the host is clamped (hyperv)", spec.IsolationHyperV, spec.Resources{CPUCount: 16}, 4, 4, 0, 1},
		{"count equal to the host stays", spec.IsolationProcess, spec.Resources{CPUCount: 4}, 4, 4, 0, 0},
		{"clamped and maximum dropped", spec.IsolationProcess, spec.Resources{CPUCount: 8, CPUMaximumPercent: 10}, 2, 2, 0, 2},
		{"host unknown: no clamp", spec.IsolationProcess, spec.Resources{CPUCount: 64}, 0, 64, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg containerConfig
			if err := setResources(&cfg, tt.r, tt.iso, tt.hostCPUs); err != nil {
				t.Fatal(err)
			}
			if cfg.ProcessorCount != tt.wantCount || cfg.ProcessorMaximum != tt.wantMax {
				t.Errorf("ProcessorCount %d ProcessorMaximum %d, want %d %d", cfg.ProcessorCount, cfg.ProcessorMaximum, tt.wantCount, tt.wantMax)
			}
			if len(cfg.adjusted) != tt.wantAdjusted {
				t.Errorf("adjusted = %q, want %d notes", cfg.adjusted, tt.wantAdjusted)
			}
			if cfg.ProcessorCount > 0 && cfg.ProcessorMaximum > 0 && tt.iso == spec.IsolationProcess {
				t.Errorf("process isolation document carries both a count and a maximum")
			}
		})
	}
}

func TestBuildContainerConfigErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        documentInput
		wantErr   string
		wantClass error
	}{
		{"default isolation", baseInput(spec.IsolationDefault), "not resolved", nil},
		{"no layers", func() documentInput { in := baseInput(spec.IsolationHyperV); in.Parents = nil; return in }(), "no layers", nil},
		{"no scratch", func() documentInput { in := baseInput(spec.IsolationHyperV); in.ScratchPath = ""; return in }(), "scratch", nil},
		{"hyperv without utility VM", func() documentInput { in := baseInput(spec.IsolationHyperV); in.UtilityVM = ""; return in }(), "utility VM", nil},
		{"process without volume", func() documentInput { in := baseInput(spec.IsolationProcess); in.VolumePath = ""; return in }(), "volume path", nil},
		{"no owner", func() documentInput { in := baseInput(spec.IsolationProcess); in.Owner = ""; return in }(), "owner", nil},
		{"devices with hyperv", withSpec(baseInput(spec.IsolationHyperV), func(s *spec.ContainerSpec) {
			s.Devices = []spec.Device{{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"}}
		}), "need process isolation", driver.ErrIncompatible},
		{"vpci device", withSpec(baseInput(spec.IsolationProcess), func(s *spec.ContainerSpec) {
			s.Devices = []spec.Device{{IDType: "vpci-location-path", ID: "PCIROOT(0)#PCI(0100)"}}
		}), "interface class only", driver.ErrIncompatible},
		{"bad pipe", withSpec(baseInput(spec.IsolationProcess), func(s *spec.ContainerSpec) {
			s.NamedPipes = []spec.NamedPipe{{HostPipe: `\\.\pipe\a`, ContainerPipe: `\\.\pipe\`}}
		}), "named pipe", nil},
		{"cpu percent over 100", withSpec(baseInput(spec.IsolationProcess), func(s *spec.ContainerSpec) {
			s.Resources.CPUMaximumPercent = 101
		}), "out of range", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildContainerConfig(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.wantClass != nil && !errors.Is(err, tt.wantClass) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantClass)
			}
		})
	}
}

func TestContainerPipeName(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"full path", `\\.\pipe\docker_engine`, "docker_engine", false},
		{"case-insensitive prefix", `\\.\PIPE\svc`, "svc", false},
		{"bare name", "svc", "svc", false},
		{"prefix only", `\\.\pipe\`, "", true},
		{"remote pipe", `\\server\pipe\x\\y`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := containerPipeName(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("containerPipeName(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBuildProcessConfig(t *testing.T) {
	servercore := v1.Config{
		Cmd:  []string{`c:\windows\system32\cmd.exe`},
		Env:  []string{"Path=C:\\Windows\\system32;C:\\Windows", "LANG=en"},
		User: "ContainerUser",
	}
	tests := []struct {
		name    string
		spec    spec.ContainerSpec
		img     v1.Config
		want    processConfig
		wantErr bool
	}{
		{
			name: "manifest command, env overlay, working dir",
			spec: spec.ContainerSpec{
				Command:    []string{"ping", "localhost", "-t"},
				WorkingDir: `C:\app`,
				Env:        map[string]string{"PATH": `C:\app`, "LOG_LEVEL": "info"},
			},
			img: servercore,
			want: processConfig{
				CommandLine:      "ping localhost -t",
				User:             "ContainerUser",
				WorkingDirectory: `C:\app`,
				Environment:      map[string]string{"PATH": `C:\app`, "LANG": "en", "LOG_LEVEL": "info"},
			},
		},
		{
			name: "image cmd and defaults",
			img:  servercore,
			want: processConfig{
				CommandLine:      `c:\windows\system32\cmd.exe`,
				User:             "ContainerUser",
				WorkingDirectory: `C:\`,
				Environment:      map[string]string{"Path": `C:\Windows\system32;C:\Windows`, "LANG": "en"},
			},
		},
		{
			name: "entrypoint kept, command replaces cmd",
			spec: spec.ContainerSpec{Command: []string{"-NoLogo", "Write-Host 'hi there'"}},
			img:  v1.Config{Entrypoint: []string{"powershell.exe", "-Command"}, Cmd: []string{"dir"}, WorkingDir: `C:\work`},
			want: processConfig{
				CommandLine:      `powershell.exe -Command -NoLogo "Write-Host 'hi there'"`,
				WorkingDirectory: `C:\work`,
			},
		},
		{name: "no command anywhere", img: v1.Config{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildProcessConfig(tt.spec, tt.img)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWindowsPathHelpers(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"join", windowsJoin(`C:\layers\base`, "UtilityVM"), `C:\layers\base\UtilityVM`},
		{"join trailing slash", windowsJoin(`C:\layers\base\`, "UtilityVM"), `C:\layers\base\UtilityVM`},
		{"volume trailing slash", trimVolumePath(testVolume + `\`), testVolume},
		{"volume as is", trimVolumePath(testVolume), testVolume},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
