package hcs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/reconciler/reconciler/spec"
)

// endpointPlan says how a container is networked. Exactly one of
// NetworkType (create an endpoint on the host network of that HNS type) and
// Namespace (attach the endpoints already in that HNS namespace) is set,
// or neither (mode none: no network).
type endpointPlan struct {
	NetworkType string
	Namespace   string
	// Policies are the HNS v1 endpoint policies (port mappings) to create
	// the endpoint with.
	Policies []json.RawMessage
	// InternalDNS has HNS answer the container's DNS queries at the NAT
	// gateway (EnableInternalDNS). moby sets it on every endpoint of a nat
	// network unless DNS is disabled (daemon/libnetwork/drivers/windows/
	// windows.go, CreateEndpoint); without it a NAT container resolves
	// nothing unless it is given DNS servers.
	InternalDNS bool
}

// hnsEndpointRequest mirrors the fields of hcsshim's HNS v1 HNSEndpoint
// (internal/hns/hnsendpoint.go) this driver creates an endpoint with.
// DNSServerList is absent on purpose: moby fills it only from --dns or the
// daemon's dns setting (daemon/network.go, buildCreateEndpointOptions) and
// a manifest has no such field, so, as for a docker container without
// --dns, the NAT gateway's internal DNS answers.
type hnsEndpointRequest struct {
	Name              string            `json:",omitempty"`
	VirtualNetwork    string            `json:",omitempty"`
	Policies          []json.RawMessage `json:",omitempty"`
	EnableInternalDNS bool              `json:",omitempty"`
}

// endpointRequest is the endpoint to create for compute system systemID on
// the HNS network networkID. It is named after the system, so the system's
// endpoint can be found without a record.
func (p endpointPlan) endpointRequest(systemID, networkID string) hnsEndpointRequest {
	return hnsEndpointRequest{Name: systemID, VirtualNetwork: networkID, Policies: p.Policies, EnableInternalDNS: p.InternalDNS}
}

// endpointAttachment is what HNS v1 says of one endpoint of a namespace:
// the compute systems attached to it (HNSEndpoint.SharedContainers, the
// field hcsshim's HNSEndpoint.IsAttached reads).
type endpointAttachment struct {
	ID               string
	SharedContainers []string
}

// namespaceHolder returns the compute system a container joining a network
// namespace shares it with: one attached to every endpoint of the
// namespace (the lowest ID when several are, for a stable document), never
// self. "" when no system holds it yet: the joining container is then the
// first, and attaches the endpoints itself. A schema1 container shares a
// network namespace by naming a running container in
// NetworkSharedContainerName, with that container's endpoints in its
// EndpointList (moby daemon/oci_windows.go, createSpec, for
// --network container:<id>; libcontainerd/local/local_windows.go,
// createWindows); attaching the endpoints alone would take them from the
// holder's compartment.
func namespaceHolder(eps []endpointAttachment, self string) string {
	if len(eps) == 0 {
		return ""
	}
	count := make(map[string]int)
	for _, ep := range eps {
		seen := make(map[string]bool, len(ep.SharedContainers))
		for _, c := range ep.SharedContainers {
			c = strings.TrimSpace(c)
			if c == "" || strings.EqualFold(c, self) || seen[strings.ToLower(c)] {
				continue
			}
			seen[strings.ToLower(c)] = true
			count[c]++
		}
	}
	var holders []string
	for c, n := range count {
		if n == len(eps) {
			holders = append(holders, c)
		}
	}
	if len(holders) == 0 {
		return ""
	}
	sort.Strings(holders)
	return holders[0]
}

// natPolicy mirrors hcsshim's HNS v1 NatPolicy: one published port.
type natPolicy struct {
	Type         string `json:"Type"`
	Protocol     string `json:",omitempty"`
	InternalPort uint16 `json:",omitempty"`
	ExternalPort uint16 `json:",omitempty"`
}

// hnsNetworkTypes maps the manifest's network modes onto HNS network types.
var hnsNetworkTypes = map[string]string{
	"":            "NAT",
	"nat":         "NAT",
	"transparent": "Transparent",
	"l2bridge":    "L2Bridge",
}

// planEndpoint decides the container's networking. Published ports need a
// NAT endpoint of the driver's own; joining a namespace shares endpoints
// that already exist and cannot publish ports.
func planEndpoint(n spec.Network, ports []spec.Port) (endpointPlan, error) {
	mode := strings.ToLower(n.Mode)
	if n.Namespace != "" {
		if len(ports) > 0 {
			return endpointPlan{}, fmt.Errorf("network namespace %s: ports cannot be published into a shared namespace; publish them where the namespace was created", n.Namespace)
		}
		return endpointPlan{Namespace: n.Namespace}, nil
	}
	if mode == "none" {
		if len(ports) > 0 {
			return endpointPlan{}, fmt.Errorf("network mode none cannot publish ports; use mode nat")
		}
		return endpointPlan{}, nil
	}
	typ, ok := hnsNetworkTypes[mode]
	if !ok {
		return endpointPlan{}, fmt.Errorf("network mode %q: valid modes are nat, transparent, l2bridge, none", n.Mode)
	}
	if len(ports) > 0 && typ != "NAT" {
		return endpointPlan{}, fmt.Errorf("network mode %s cannot publish ports (the container has its own address there); use mode nat", mode)
	}
	plan := endpointPlan{NetworkType: typ, InternalDNS: typ == "NAT"}
	for _, p := range ports {
		proto := strings.ToUpper(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		if proto != "TCP" && proto != "UDP" {
			return endpointPlan{}, fmt.Errorf("port %d: protocol %q: valid are tcp, udp", p.HostPort, p.Protocol)
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return endpointPlan{}, fmt.Errorf("port %d:%d out of range 1-65535", p.HostPort, p.ContainerPort)
		}
		raw, err := json.Marshal(natPolicy{Type: "NAT", Protocol: proto, InternalPort: uint16(p.ContainerPort), ExternalPort: uint16(p.HostPort)})
		if err != nil {
			return endpointPlan{}, fmt.Errorf("port policy: %w", err)
		}
		plan.Policies = append(plan.Policies, raw)
	}
	return plan, nil
}

// hnsNetwork is what choosing a network needs of an HNS network.
type hnsNetwork struct {
	ID   string
	Name string
	Type string
}

// pickNetwork chooses the host network of HNS type typ: the one named like
// the type in lower case (docker's "nat") if present, else the first by
// name. None of that type is an error that says how to make one.
func pickNetwork(nets []hnsNetwork, typ string) (hnsNetwork, error) {
	var found []hnsNetwork
	for _, n := range nets {
		if strings.EqualFold(n.Type, typ) {
			if strings.EqualFold(n.Name, typ) {
				return n, nil
			}
			found = append(found, n)
		}
	}
	if len(found) == 0 {
		return hnsNetwork{}, fmt.Errorf("the host has no HNS network of type %s (create one, e.g. New-HnsNetwork -Type %s -Name %s, or choose another network mode)",
			typ, typ, strings.ToLower(typ))
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found[0], nil
}

// hnsObjectNotFound is the sentence of HNS's v1 (JSON-over-RPC) error for
// an endpoint or network ID it does not know, e.g. after a reboot:
// "HNS failed with error : The object identifier does not represent a
// valid object. ". hcsshim's legacy GetHNSEndpointByID returns it as plain
// text that hcsshim.IsNotExist does not match; moby compares the whole
// text when deleting (daemon/libnetwork/drivers/windows/windows.go,
// errNotFound, used by DeleteEndpoint and DeleteNetwork).
const hnsObjectNotFound = "The object identifier does not represent a valid object"

// hnsElementNotFound is the text HNS v1 gives for an unknown namespace
// (hcsshim internal/hns/namespace.go, RemoveNamespace, matches it too).
const hnsElementNotFound = "Element not found."

// isHNSNotFoundText reports whether an HNS error message says the object
// does not exist. It backs hcn.IsNotFoundError, which knows hcn's typed
// errors and HCN_E / ERROR_NOT_FOUND codes but not HNS v1's texts.
func isHNSNotFoundText(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, strings.ToLower(hnsObjectNotFound)) || strings.Contains(m, strings.ToLower(hnsElementNotFound))
}
