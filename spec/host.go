package spec

import "fmt"

// SKU is the host's product type.
type SKU string

// The host SKUs.
const (
	SKUServer SKU = "server"
	SKUClient SKU = "client"
)

// Host is what the version rules need to know of a container host.
type Host struct {
	Build    uint32 `json:"build"`
	Revision uint32 `json:"revision"`
	SKU      SKU    `json:"sku"`
	// HyperV reports whether Hyper-V isolation is available.
	HyperV bool `json:"hyperv"`
}

// DefaultIsolation is the isolation a manifest's "default" means on this
// host: hyperv on a client SKU, process on a server.
func (h Host) DefaultIsolation() Isolation {
	if h.SKU == SKUClient {
		return IsolationHyperV
	}
	return IsolationProcess
}

// Effective resolves IsolationDefault (and "") to h.DefaultIsolation();
// other values are returned as is.
func (h Host) Effective(iso Isolation) Isolation {
	if iso == "" || iso == IsolationDefault {
		return h.DefaultIsolation()
	}
	return iso
}

// String names the host for messages: "Windows Server 2022 (10.0.20348.1)",
// "Windows 11 (10.0.22631)", "Windows 10 (10.0.19045)", "Windows Server,
// version 1903 (10.0.18362)".
func (h Host) String() string {
	return fmt.Sprintf("%s (%s)", h.productName(), OSVersion{Build: h.Build, Revision: h.Revision})
}

// productName is the Windows product of the host's SKU and build.
func (h Host) productName() string {
	if h.SKU == SKUClient {
		if h.Build >= buildWin11 {
			return "Windows 11"
		}
		return "Windows 10"
	}
	if r, ok := releaseByBuild(h.Build); ok {
		return r.server
	}
	if name, ok := serverOnlyNames[h.Build]; ok {
		return name
	}
	return "Windows Server"
}
