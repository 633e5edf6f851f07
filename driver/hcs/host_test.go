package hcs

import (
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestParseHost(t *testing.T) {
	tests := []struct {
		name    string
		in      hostRegistryValues
		want    spec.Host
		wantErr bool
	}{
		{"Server 2022 Datacenter", hostRegistryValues{CurrentBuildNumber: "20348", UBR: 2762, InstallationType: "Server", VMMS: true, HypervisorPresent: true},
			spec.Host{Build: 20348, Revision: 2762, SKU: spec.SKUServer, HyperV: true}, false},
		{"Server Core 2019 without Hyper-V", hostRegistryValues{CurrentBuildNumber: "17763", UBR: 5329, InstallationType: "Server Core"},
			spec.Host{Build: 17763, Revision: 5329, SKU: spec.SKUServer}, false},
		{"Nano Server", hostRegistryValues{CurrentBuildNumber: "14393", InstallationType: "Nano Server"},
			spec.Host{Build: 14393, SKU: spec.SKUServer}, false},
		{"Windows 11", hostRegistryValues{CurrentBuildNumber: "22631", UBR: 4317, InstallationType: "Client", VMMS: true, HypervisorPresent: true},
			spec.Host{Build: 22631, Revision: 4317, SKU: spec.SKUClient, HyperV: true}, false},
		{"spaces trimmed", hostRegistryValues{CurrentBuildNumber: " 26100 ", InstallationType: "server"},
			spec.Host{Build: 26100, SKU: spec.SKUServer}, false},
		{"Hyper-V installed, hypervisor off", hostRegistryValues{CurrentBuildNumber: "20348", UBR: 2762, InstallationType: "Server", VMMS: true},
			spec.Host{Build: 20348, Revision: 2762, SKU: spec.SKUServer}, false},
		{"a hypervisor (a VM's host) without the Hyper-V feature", hostRegistryValues{CurrentBuildNumber: "26100", InstallationType: "Server", HypervisorPresent: true},
			spec.Host{Build: 26100, SKU: spec.SKUServer}, false},
		{"not a number", hostRegistryValues{CurrentBuildNumber: "20348.1", InstallationType: "Server"}, spec.Host{}, true},
		{"empty build", hostRegistryValues{InstallationType: "Server"}, spec.Host{}, true},
		{"unknown installation type", hostRegistryValues{CurrentBuildNumber: "20348", InstallationType: "IoTUAP"}, spec.Host{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHost(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseHost(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestHypervisorPresent(t *testing.T) {
	tests := []struct {
		name    string
		info    []byte
		want    bool
		wantErr bool
	}{
		{"connected and present, enlightenments set", []byte{1, 0, 1, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0, 0, 0, 0, 0}, true, false},
		{"absent", make([]byte, 16), false, false},
		{"only connected is not present", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false, false},
		{"short buffer", []byte{1, 0, 1}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hypervisorPresent(tt.info)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("hypervisorPresent(%v) = %v, %v; want %v, wantErr %v", tt.info, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
