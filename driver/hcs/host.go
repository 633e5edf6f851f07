package hcs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/spec"
)

// hostRegistryValues are the values of
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion the host facts come
// from, plus the two facts Hyper-V isolation needs.
type hostRegistryValues struct {
	// CurrentBuildNumber is a string value ("20348").
	CurrentBuildNumber string
	// UBR is the update build revision, a DWORD.
	UBR uint32
	// InstallationType is "Server", "Server Core", "Nano Server" or
	// "Client".
	InstallationType string
	// VMMS is whether the Hyper-V Virtual Machine Management service is
	// installed (its service key exists): the Hyper-V feature is.
	VMMS bool
	// HypervisorPresent is whether a hypervisor runs under this Windows
	// (hypervisorPresent). The feature can be installed with the
	// hypervisor off (hypervisorlaunchtype off, virtualization disabled in
	// the firmware, a VM without nested virtualization), and HCS then
	// refuses every Hyper-V create with "No hypervisor is present on this
	// system." (0xC0351000, see hintOfCode).
	HypervisorPresent bool
}

// parseHost turns the registry values into the host the version rules
// reason about. An installation type it does not know is an error rather
// than a guess, because it decides the default isolation.
func parseHost(v hostRegistryValues) (spec.Host, error) {
	build, err := strconv.ParseUint(strings.TrimSpace(v.CurrentBuildNumber), 10, 32)
	if err != nil || build == 0 {
		return spec.Host{}, fmt.Errorf("host: CurrentBuildNumber %q is not a build number", v.CurrentBuildNumber)
	}
	h := spec.Host{Build: uint32(build), Revision: v.UBR, HyperV: v.VMMS && v.HypervisorPresent}
	switch strings.ToLower(strings.TrimSpace(v.InstallationType)) {
	case "server", "server core", "nano server":
		h.SKU = spec.SKUServer
	case "client":
		h.SKU = spec.SKUClient
	default:
		return spec.Host{}, fmt.Errorf(`host: InstallationType %q is not one of "Server", "Server Core", "Nano Server", "Client"`, v.InstallationType)
	}
	return h, nil
}

// hypervisorInfoSize is the size of SYSTEM_HYPERVISOR_QUERY_INFORMATION,
// what NtQuerySystemInformation(SystemHypervisorInformation, 0x5B)
// fills: BOOLEAN HypervisorConnected, HypervisorDebuggingEnabled,
// HypervisorPresent, 5 spare bytes, then ULONGLONG EnabledEnlightenments
// (phnt ntexapi.h). It is where WMI's Win32_ComputerSystem.HypervisorPresent
// comes from.
const hypervisorInfoSize = 16

// hypervisorPresent reads HypervisorPresent out of a
// SYSTEM_HYPERVISOR_QUERY_INFORMATION buffer. A hypervisor being present is
// necessary, not sufficient: the guest of a VM without nested
// virtualization sees its host's; the error mapping (0xC0351000,
// ERROR_NOT_SUPPORTED on a Hyper-V create) is the backstop.
func hypervisorPresent(info []byte) (bool, error) {
	if len(info) < hypervisorInfoSize {
		return false, fmt.Errorf("host: hypervisor information is %d bytes, want %d", len(info), hypervisorInfoSize)
	}
	return info[2] != 0, nil
}
