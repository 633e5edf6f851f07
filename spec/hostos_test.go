package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHostOS(t *testing.T) {
	tests := []struct {
		in       string
		sku      SKU
		want     OSVersion
		wantSKU  SKU
		wantErrs []string // each must be in the error
	}{
		{in: "ltsc2022", want: OSVersion{Build: 20348}},
		{in: "ltsc2022", sku: SKUClient, want: OSVersion{Build: 20348}, wantSKU: SKUClient},
		{in: "10.0.20348.2340", sku: SKUServer, want: OSVersion{Build: 20348, Revision: 2340}, wantSKU: SKUServer},
		{in: "server2025", want: OSVersion{Build: 26100}, wantSKU: SKUServer},
		{in: "Server2019", sku: SKUServer, want: OSVersion{Build: 17763}, wantSKU: SKUServer},
		{in: "win10-22H2", want: OSVersion{Build: 19045}, wantSKU: SKUClient},
		{in: "win11-24h2", sku: SKUClient, want: OSVersion{Build: 26100}, wantSKU: SKUClient},
		{in: " win11-25H2 ", want: OSVersion{Build: 26200}, wantSKU: SKUClient},
		{in: "win11-23H2", sku: SKUServer, wantErrs: []string{"Windows 11 23H2 is a client release, not server", "drop the SKU"}},
		{in: "server2022", sku: SKUClient, wantErrs: []string{"Windows Server 2022 is a server release, not client"}},
		// A feature version names the release of that version for the SKU.
		{in: "21H2", want: OSVersion{Build: 20348}, wantSKU: SKUServer},
		{in: "23H2", sku: SKUServer, want: OSVersion{Build: 25398}, wantSKU: SKUServer},
		{in: "24H2", want: OSVersion{Build: 26100}, wantSKU: SKUServer},
		{in: "23H2", sku: SKUClient, want: OSVersion{Build: 22631}, wantSKU: SKUClient},
		{in: "24H2", sku: SKUClient, want: OSVersion{Build: 26100}, wantSKU: SKUClient},
		{in: "25H2", sku: SKUClient, want: OSVersion{Build: 26200}, wantSKU: SKUClient},
		{in: "1809", sku: SKUClient, want: OSVersion{Build: 17763}, wantSKU: SKUClient},
		{in: "20H2", want: OSVersion{Build: 19042}},
		// Nothing is guessed.
		{in: "22H2", sku: SKUClient, wantErrs: []string{"more than one client release is 22H2", "win10-22H2 (Windows 10 22H2, build 19045)", "win11-22H2 (Windows 11 22H2, build 22621)"}},
		{in: "21H2", sku: SKUClient, wantErrs: []string{"win10-21H2", "win11-21H2"}},
		{in: "22H2", wantErrs: []string{"no server release has that version", "win10-22H2", "win11-22H2"}},
		{in: "25H2", sku: SKUServer, wantErrs: []string{"no server release has that version", "win11-25H2 (Windows 11 25H2, build 26200)"}},
		{in: "26H2", wantErrs: []string{"a release name (ltsc2016", "a host release (server2016", "win11-25H2)"}},
		{in: "win12", wantErrs: []string{"10.0.BUILD"}},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/"+string(tt.sku), func(t *testing.T) {
			got, sku, err := ParseHostOS(tt.in, tt.sku)
			if len(tt.wantErrs) > 0 {
				if err == nil || !errors.Is(err, ErrInvalidOSVersion) {
					t.Fatalf("ParseHostOS = %v, %q, %v; want an ErrInvalidOSVersion", got, sku, err)
				}
				for _, w := range tt.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want || sku != tt.wantSKU {
				t.Errorf("ParseHostOS = %v, %q, %v; want %v, %q", got, sku, err, tt.want, tt.wantSKU)
			}
		})
	}
}

// TestParseHostOSNamesEveryRowOfTheREADME: each host row of the README's
// table of which images a host runs can be given to --host-os by name.
func TestParseHostOSNamesEveryRowOfTheREADME(t *testing.T) {
	for _, name := range []string{"server2016", "server2019", "server2022", "server2025", "win10-22H2", "win11-21H2", "win11-22H2", "win11-23H2", "win11-24H2"} {
		if _, _, err := ParseHostOS(name, ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
