package hcs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/wincmd"
	"github.com/reconciler/reconciler/spec"
)

// The structs below mirror the parts of hcsshim's schema1 types
// (internal/hcs/schema1 in hcsshim v0.15.0) that this driver sends. hcsshim's
// own types only compile on Windows; these keep the same field names, JSON
// names and omitempty rules so the document can be built and golden-tested
// on any OS and converted to hcsshim.ContainerConfig by a JSON round trip.

// containerConfig mirrors schema1.ContainerConfig.
type containerConfig struct {
	SystemType              string       // always "Container"
	Name                    string       // the compute system ID
	Owner                   string       `json:",omitempty"`
	VolumePath              string       `json:",omitempty"` // process isolation: the activated scratch volume
	IgnoreFlushesDuringBoot bool         `json:",omitempty"`
	LayerFolderPath         string       `json:",omitempty"` // the scratch layer folder
	Layers                  []layerEntry // read-only layers, nearest parent first, base last
	ProcessorCount          uint32       `json:",omitempty"`
	ProcessorMaximum        int64        `json:",omitempty"` // percent × 100, 1..10000
	MemoryMaximumInMB       int64        `json:",omitempty"`
	HostName                string       `json:",omitempty"`
	MappedDirectories       []mappedDir  `json:",omitempty"`
	MappedPipes             []mappedPipe `json:",omitempty"`
	HvPartition             bool         // true for Hyper-V isolation
	EndpointList            []string     `json:",omitempty"`
	// NetworkSharedContainerName is the compute system whose network
	// namespace this container joins (namespaceHolder).
	NetworkSharedContainerName string           `json:",omitempty"`
	HvRuntime                  *hvRuntime       `json:",omitempty"`
	AssignedDevices            []assignedDevice `json:",omitempty"`

	// adjusted says what the builder changed from the manifest to make a
	// document HCS accepts (never sent; the driver logs it).
	adjusted []string
}

// layerEntry mirrors schema1.Layer.
type layerEntry struct {
	ID   string // the layer's GUID (hcsshim.NameToGuid of its folder name)
	Path string
}

// mappedDir mirrors schema1.MappedDir.
type mappedDir struct {
	HostPath          string
	ContainerPath     string
	ReadOnly          bool
	BandwidthMaximum  uint64
	IOPSMaximum       uint64
	CreateInUtilityVM bool
}

// mappedPipe mirrors schema1.MappedPipe.
type mappedPipe struct {
	HostPath          string
	ContainerPipeName string // the name after \\.\pipe\
}

// hvRuntime mirrors schema1.HvRuntime.
type hvRuntime struct {
	ImagePath string `json:",omitempty"` // the uppermost layer's UtilityVM folder (see locateUtilityVM)
}

// assignedDevice mirrors schema1.AssignedDevice.
type assignedDevice struct {
	InterfaceClassGUID string `json:"InterfaceClassGuid,omitempty"`
}

// processConfig mirrors schema1.ProcessConfig.
type processConfig struct {
	ApplicationName  string            `json:",omitempty"`
	CommandLine      string            `json:",omitempty"`
	User             string            `json:",omitempty"`
	WorkingDirectory string            `json:",omitempty"`
	Environment      map[string]string `json:",omitempty"`
	EmulateConsole   bool              `json:",omitempty"`
	CreateStdInPipe  bool              `json:",omitempty"`
	CreateStdOutPipe bool              `json:",omitempty"`
	CreateStdErrPipe bool              `json:",omitempty"`
}

// pipePrefix starts every Windows named pipe path.
const pipePrefix = `\\.\pipe\`

// defaultWorkingDir is where the process starts when neither the manifest
// nor the image name a working directory.
const defaultWorkingDir = `C:\`

// documentInput is everything the container document is built from.
type documentInput struct {
	// ID is the compute system ID (driver.SystemID).
	ID string
	// Name is the container name, the default host name.
	Name      string
	Owner     string
	Isolation spec.Isolation
	Spec      spec.ContainerSpec
	// Parents are the image's read-only layers, nearest parent first and
	// the base layer last.
	Parents []layerEntry
	// ScratchPath is the container's scratch (writable) layer folder.
	ScratchPath string
	// VolumePath is the activated scratch volume (\\?\Volume{GUID}); process
	// isolation only.
	VolumePath string
	// UtilityVM is the UtilityVM folder the Hyper-V utility VM boots from
	// (locateUtilityVM); Hyper-V isolation only.
	UtilityVM string
	// Endpoints are the HNS endpoint IDs to attach.
	Endpoints []string
	// SharedWith is the compute system whose network namespace the
	// container joins ("" for none; see namespaceHolder).
	SharedWith string
	// HostCPUs is the number of logical processors the host gives the
	// agent (runtime.NumCPU); 0 when unknown, and then no clamp applies.
	HostCPUs int
}

// buildContainerConfig builds the schema1 document HCS creates the compute
// system from. It fails on inputs HCS would refuse or silently misread;
// what the chosen isolation mode cannot do wraps driver.ErrIncompatible.
func buildContainerConfig(in documentInput) (containerConfig, error) {
	if in.ID == "" || in.Owner == "" {
		return containerConfig{}, errors.New("container document: id and owner are required")
	}
	if len(in.Parents) == 0 {
		return containerConfig{}, errors.New("container document: the image has no layers")
	}
	if in.ScratchPath == "" {
		return containerConfig{}, errors.New("container document: no scratch layer")
	}
	hostName := in.Spec.Hostname
	if hostName == "" {
		hostName = in.Name
	}
	cfg := containerConfig{
		SystemType:                 "Container",
		Name:                       in.ID,
		Owner:                      in.Owner,
		IgnoreFlushesDuringBoot:    true,
		LayerFolderPath:            in.ScratchPath,
		Layers:                     in.Parents,
		HostName:                   hostName,
		EndpointList:               in.Endpoints,
		NetworkSharedContainerName: in.SharedWith,
	}
	switch in.Isolation {
	case spec.IsolationProcess:
		if in.VolumePath == "" {
			return containerConfig{}, errors.New("container document: process isolation needs the scratch volume path")
		}
		cfg.VolumePath = in.VolumePath
	case spec.IsolationHyperV:
		cfg.HvPartition = true
		if in.UtilityVM == "" {
			return containerConfig{}, errors.New("container document: hyperv isolation needs the utility VM folder")
		}
		cfg.HvRuntime = &hvRuntime{ImagePath: in.UtilityVM}
	default:
		return containerConfig{}, fmt.Errorf("container document: isolation %q is not resolved to process or hyperv", in.Isolation)
	}
	if err := setResources(&cfg, in.Spec.Resources, in.Isolation, in.HostCPUs); err != nil {
		return containerConfig{}, err
	}
	for _, m := range in.Spec.Mounts {
		cfg.MappedDirectories = append(cfg.MappedDirectories, mappedDir{
			HostPath:      m.HostPath,
			ContainerPath: m.ContainerPath,
			ReadOnly:      m.ReadOnly,
		})
	}
	for _, p := range in.Spec.NamedPipes {
		pipe, err := containerPipeName(p.ContainerPipe)
		if err != nil {
			return containerConfig{}, err
		}
		cfg.MappedPipes = append(cfg.MappedPipes, mappedPipe{HostPath: p.HostPipe, ContainerPipeName: pipe})
	}
	devices, err := assignedDevices(in.Isolation, in.Spec.Devices)
	if err != nil {
		return containerConfig{}, err
	}
	cfg.AssignedDevices = devices
	return cfg, nil
}

// utilityVMDir is the folder of a layer that holds the utility VM image.
const utilityVMDir = "UtilityVM"

// locateUtilityVM returns the UtilityVM folder of the uppermost of parents
// (nearest first, base last) that has one, as hcsshim's
// uvmfolder.LocateUVMFolder does for moby and containerd: an image layer
// above the base may carry a serviced utility VM, and the base layer's
// would then be the wrong one. Errors other than "not there" are returned;
// no layer with one wraps driver.ErrIncompatible.
func locateUtilityVM(parents []string) (string, error) {
	for _, dir := range parents {
		uvm := filepath.Join(dir, utilityVMDir)
		_, err := os.Stat(uvm)
		if err == nil {
			return uvm, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("utility VM folder: %w", err)
		}
	}
	return "", fmt.Errorf("no layer of the image has a %s folder, so it cannot run with hyperv isolation: %w",
		utilityVMDir, driver.ErrIncompatible)
}

// setResources copies the manifest's limits; CPU maximum goes from a
// percentage to HCS's scale of 10000. As moby does:
//   - a CPU count above the host's CPUs is lowered to them
//     (libcontainerd/local/local_windows.go: "Changing requested CPUCount
//     of %d to current number of processors");
//   - for process isolation a CPU count and a CPU maximum are mutually
//     exclusive, and the count wins (daemon/daemon_windows.go,
//     verifyPlatformContainerResources: "CPU count takes priority over CPU
//     percent on Windows Server Containers. CPU percent discarded").
//
// Each change is noted in cfg.adjusted.
func setResources(cfg *containerConfig, r spec.Resources, iso spec.Isolation, hostCPUs int) error {
	if r.CPUCount < 0 || r.MemoryMB < 0 || r.CPUMaximumPercent < 0 || r.CPUMaximumPercent > 100 {
		return fmt.Errorf("container document: resources out of range (cpuCount %d, cpuMaximumPercent %d, memoryMB %d)",
			r.CPUCount, r.CPUMaximumPercent, r.MemoryMB)
	}
	if hostCPUs > 0 && r.CPUCount > hostCPUs {
		cfg.adjusted = append(cfg.adjusted, fmt.Sprintf("cpuCount %d lowered to the host's %d processors", r.CPUCount, hostCPUs))
		r.CPUCount = hostCPUs
	}
	if iso == spec.IsolationProcess && r.CPUCount > 0 && r.CPUMaximumPercent > 0 {
		cfg.adjusted = append(cfg.adjusted, fmt.Sprintf(
			"cpuMaximumPercent %d dropped: process isolation takes a CPU count or a CPU maximum, and cpuCount %d wins",
			r.CPUMaximumPercent, r.CPUCount))
		r.CPUMaximumPercent = 0
	}
	cfg.ProcessorCount = uint32(r.CPUCount)
	cfg.ProcessorMaximum = int64(r.CPUMaximumPercent) * 100
	cfg.MemoryMaximumInMB = int64(r.MemoryMB)
	return nil
}

// containerPipeName turns `\\.\pipe\name` into the bare name HCS wants.
func containerPipeName(p string) (string, error) {
	name := p
	if len(p) >= len(pipePrefix) && strings.EqualFold(p[:len(pipePrefix)], pipePrefix) {
		name = p[len(pipePrefix):]
	}
	if name == "" || strings.Contains(name, `\\`) {
		return "", fmt.Errorf("container document: named pipe %q: want %sNAME", p, pipePrefix)
	}
	return name, nil
}

// assignedDevices maps manifest devices onto schema1, which assigns devices
// by interface class GUID to process-isolated containers only.
func assignedDevices(iso spec.Isolation, devices []spec.Device) ([]assignedDevice, error) {
	if len(devices) == 0 {
		return nil, nil
	}
	if iso != spec.IsolationProcess {
		return nil, fmt.Errorf("assigned devices need process isolation on this driver (HCS schema1 cannot assign devices to a Hyper-V container): %w",
			driver.ErrIncompatible)
	}
	out := make([]assignedDevice, 0, len(devices))
	for _, d := range devices {
		if d.IDType != "class" {
			return nil, fmt.Errorf("device %s/%s: this driver assigns devices by interface class only (idType: class): %w",
				d.IDType, d.ID, driver.ErrIncompatible)
		}
		out = append(out, assignedDevice{InterfaceClassGUID: d.ID})
	}
	return out, nil
}

// windowsJoin joins Windows path elements with a backslash whatever the OS
// the code runs on.
func windowsJoin(dir, elem string) string {
	return strings.TrimRight(dir, `\/`) + `\` + elem
}

// buildProcessConfig builds the main process: the image's entrypoint
// followed by the manifest's command (or the image's cmd when the manifest
// gives none, as docker does), the image's environment overlaid by the
// manifest's (names compared case-insensitively, as Windows does), and the
// manifest's working directory, else the image's, else C:\.
func buildProcessConfig(s spec.ContainerSpec, img v1.Config) (processConfig, error) {
	args := append([]string(nil), img.Entrypoint...)
	if len(s.Command) > 0 {
		args = append(args, s.Command...)
	} else {
		args = append(args, img.Cmd...)
	}
	if len(args) == 0 {
		return processConfig{}, errors.New("no command: neither the manifest nor the image names one")
	}
	wd := s.WorkingDir
	if wd == "" {
		wd = img.WorkingDir
	}
	if wd == "" {
		wd = defaultWorkingDir
	}
	return processConfig{
		CommandLine:      wincmd.Join(args),
		User:             img.User,
		WorkingDirectory: wd,
		Environment:      mergeEnv(img.Env, s.Env),
	}, nil
}

// mergeEnv overlays the manifest's variables on the image's KEY=VALUE list.
// A manifest name replaces an image name that differs only in case.
func mergeEnv(image []string, manifest map[string]string) map[string]string {
	out := make(map[string]string, len(image)+len(manifest))
	byFold := make(map[string]string, len(image))
	for _, kv := range image {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if old, ok := byFold[strings.ToLower(k)]; ok {
			delete(out, old)
		}
		out[k] = v
		byFold[strings.ToLower(k)] = k
	}
	keys := make([]string, 0, len(manifest))
	for k := range manifest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if old, ok := byFold[strings.ToLower(k)]; ok {
			delete(out, old)
		}
		out[k] = manifest[k]
		byFold[strings.ToLower(k)] = k
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// trimVolumePath drops the trailing backslash of a volume GUID path, which
// HCS's VolumePath must not have.
func trimVolumePath(v string) string {
	return strings.TrimSuffix(v, `\`)
}
