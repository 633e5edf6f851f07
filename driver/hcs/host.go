package hcs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/spec"
)

// hostRegistryValues are the values of
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion the host facts come
// from, plus whether Hyper-V isolation is available.
type hostRegistryValues struct {
	// CurrentBuildNumber is a string value ("20348").
	CurrentBuildNumber string
	// UBR is the update build revision, a DWORD.
	UBR uint32
	// InstallationType is "Server", "Server Core", "Nano Server" or
	// "Client".
	InstallationType string
	HyperV           bool
}

// parseHost turns the registry values into the host the version rules
// reason about. An installation type it does not know is an error rather
// than a guess, because it decides the default isolation.
func parseHost(v hostRegistryValues) (spec.Host, error) {
	build, err := strconv.ParseUint(strings.TrimSpace(v.CurrentBuildNumber), 10, 32)
	if err != nil || build == 0 {
		return spec.Host{}, fmt.Errorf("host: CurrentBuildNumber %q is not a build number", v.CurrentBuildNumber)
	}
	h := spec.Host{Build: uint32(build), Revision: v.UBR, HyperV: v.HyperV}
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
