package hcs

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestPlanEndpoint(t *testing.T) {
	tests := []struct {
		name         string
		net          spec.Network
		ports        []spec.Port
		wantType     string
		wantNS       string
		wantPolicies int
		wantDNS      bool
		wantErr      string
	}{
		{name: "default is nat, with HNS's internal DNS", wantType: "NAT", wantDNS: true},
		{name: "nat with ports", net: spec.Network{Mode: "nat"}, ports: []spec.Port{{HostPort: 8080, ContainerPort: 80}, {HostPort: 53, ContainerPort: 53, Protocol: "udp"}},
			wantType: "NAT", wantPolicies: 2, wantDNS: true},
		{name: "transparent", net: spec.Network{Mode: "Transparent"}, wantType: "Transparent"},
		{name: "l2bridge", net: spec.Network{Mode: "l2bridge"}, wantType: "L2Bridge"},
		{name: "none", net: spec.Network{Mode: "none"}},
		{name: "namespace", net: spec.Network{Namespace: "b9c7e1f4-0d2a-4c6b-8e3f-5a7d9c1b3e5f"}, wantNS: "b9c7e1f4-0d2a-4c6b-8e3f-5a7d9c1b3e5f"},
		{name: "namespace with ports", net: spec.Network{Namespace: "ns"}, ports: []spec.Port{{HostPort: 1, ContainerPort: 1}}, wantErr: "shared namespace"},
		{name: "none with ports", net: spec.Network{Mode: "none"}, ports: []spec.Port{{HostPort: 1, ContainerPort: 1}}, wantErr: "mode none"},
		{name: "transparent with ports", net: spec.Network{Mode: "transparent"}, ports: []spec.Port{{HostPort: 1, ContainerPort: 1}}, wantErr: "use mode nat"},
		{name: "unknown mode", net: spec.Network{Mode: "overlay"}, wantErr: "valid modes"},
		{name: "bad protocol", ports: []spec.Port{{HostPort: 1, ContainerPort: 1, Protocol: "sctp"}}, wantErr: "protocol"},
		{name: "port out of range", ports: []spec.Port{{HostPort: 70000, ContainerPort: 1}}, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planEndpoint(tt.net, tt.ports)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.NetworkType != tt.wantType || got.Namespace != tt.wantNS || len(got.Policies) != tt.wantPolicies || got.InternalDNS != tt.wantDNS {
				t.Errorf("got %+v, want type %q namespace %q with %d policies, internal DNS %v", got, tt.wantType, tt.wantNS, tt.wantPolicies, tt.wantDNS)
			}
		})
	}
}

func TestPlanEndpointGolden(t *testing.T) {
	plan, err := planEndpoint(spec.Network{}, []spec.Port{
		{HostPort: 8080, ContainerPort: 80},
		{HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := plan.endpointRequest("web_v1-0123abcd", "3f3a5bb6-8d3b-4c1e-9a3e-0e5f2b7c9d10")
	got, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, filepath.Join("network", "nat-ports.json"), append(got, '\n'))
}

func TestPickNetwork(t *testing.T) {
	nets := []hnsNetwork{
		{ID: "1", Name: "Default Switch", Type: "ICS"},
		{ID: "2", Name: "zeta", Type: "Transparent"},
		{ID: "3", Name: "alpha", Type: "transparent"},
		{ID: "4", Name: "mynat", Type: "NAT"},
		{ID: "5", Name: "nat", Type: "NAT"},
	}
	tests := []struct {
		name    string
		typ     string
		wantID  string
		wantErr bool
	}{
		{"nat prefers the one named nat", "NAT", "5", false},
		{"transparent: first by name, type case-insensitive", "Transparent", "3", false},
		{"none of that type", "L2Bridge", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickNetwork(nets, tt.typ)
			if (err != nil) != tt.wantErr || got.ID != tt.wantID {
				t.Errorf("pickNetwork(%s) = %+v, %v; want ID %q, error %v", tt.typ, got, err, tt.wantID, tt.wantErr)
			}
		})
	}
}

func TestIsHNSNotFoundText(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want bool
	}{
		// moby's errNotFound, trailing space included, as hcsshim's
		// HNSEndpointRequest returns it.
		{"HNS v1 endpoint after a reboot", "HNS failed with error : The object identifier does not represent a valid object. ", true},
		{"wrapped and lower-cased", "find endpoint of x: hns failed with error : the object identifier does not represent a valid object.", true},
		{"HNS v1 namespace", "HNS failed with error : Element not found. ", true},
		{"hcn typed error text", `Endpoint ID "0c4d1d11-3f5e-4a8e-9b1d-2a2c6d2f0a10" not found`, false},
		{"access denied", "HNS failed with error : Access is denied. ", false},
		{"in use", "HNS failed with error : The requested resource is in use. ", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isHNSNotFoundText(tt.msg); got != tt.want {
				t.Errorf("isHNSNotFoundText(%q) = %v, want %v", tt.msg, got, tt.want)
			}
		})
	}
}

func TestNamespaceHolder(t *testing.T) {
	const self = "api_v1-0a1b2c3d4e5f6789"
	tests := []struct {
		name string
		eps  []endpointAttachment
		want string
	}{
		{"no endpoints", nil, ""},
		{"endpoints nobody holds yet: the joiner is first", []endpointAttachment{{ID: "e1"}, {ID: "e2", SharedContainers: []string{}}}, ""},
		{"one holder", []endpointAttachment{{ID: "e1", SharedContainers: []string{"pause_v1-1111"}}}, "pause_v1-1111"},
		{"holder on every endpoint", []endpointAttachment{
			{ID: "e1", SharedContainers: []string{"pause_v1-1111", "side_v1-2222"}},
			{ID: "e2", SharedContainers: []string{"pause_v1-1111"}},
		}, "pause_v1-1111"},
		{"several holders: lowest ID", []endpointAttachment{{ID: "e1", SharedContainers: []string{"zz", "aa"}}}, "aa"},
		{"self is never its own holder", []endpointAttachment{{ID: "e1", SharedContainers: []string{self}}}, ""},
		{"self in another case", []endpointAttachment{{ID: "e1", SharedContainers: []string{strings.ToUpper(self), "db_v1-3333"}}}, "db_v1-3333"},
		{"nobody on every endpoint", []endpointAttachment{
			{ID: "e1", SharedContainers: []string{"a"}},
			{ID: "e2", SharedContainers: []string{"b"}},
		}, ""},
		{"a listing repeated does not count twice", []endpointAttachment{
			{ID: "e1", SharedContainers: []string{"a", "a"}},
			{ID: "e2", SharedContainers: []string{"b"}},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := namespaceHolder(tt.eps, self); got != tt.want {
				t.Errorf("namespaceHolder = %q, want %q", got, tt.want)
			}
		})
	}
}
