package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/spec"
)

func TestHostFlags(t *testing.T) {
	server2022 := spec.Host{Build: 20348, Revision: 2700, SKU: spec.SKUServer, HyperV: true}
	tests := []struct {
		name       string
		args       []string
		skuDefault string
		base       spec.Host
		wantGiven  bool
		want       spec.Host
		wantErr    string
	}{
		{name: "nothing given keeps the base", base: server2022, want: server2022},
		{name: "sku default alone is not given", skuDefault: "server", base: spec.Host{SKU: spec.SKUClient}, want: spec.Host{SKU: spec.SKUClient}},
		{name: "release name", args: []string{"--host-os", "ltsc2019"}, base: server2022, wantGiven: true,
			want: spec.Host{Build: 17763, SKU: spec.SKUServer, HyperV: true}},
		{name: "build", args: []string{"--host-os=17763"}, base: server2022, wantGiven: true,
			want: spec.Host{Build: 17763, SKU: spec.SKUServer, HyperV: true}},
		{name: "full version and client", args: []string{"--host-os", "10.0.22631.4460", "--host-sku", "client"}, base: server2022, wantGiven: true,
			want: spec.Host{Build: 22631, Revision: 4460, SKU: spec.SKUClient, HyperV: true}},
		{name: "sku alone keeps the build", args: []string{"--host-sku", "client"}, base: server2022, wantGiven: true,
			want: spec.Host{Build: 20348, Revision: 2700, SKU: spec.SKUClient, HyperV: true}},
		{name: "no hyperv", args: []string{"--no-hyperv"}, base: server2022, wantGiven: true,
			want: spec.Host{Build: 20348, Revision: 2700, SKU: spec.SKUServer}},
		{name: "hyperv given back", args: []string{"--no-hyperv=false"}, base: spec.Host{Build: 17763, SKU: spec.SKUServer}, wantGiven: true,
			want: spec.Host{Build: 17763, SKU: spec.SKUServer, HyperV: true}},
		{name: "bad version", args: []string{"--host-os", "win2019"}, base: server2022, wantGiven: true, wantErr: "--host-os: "},
		{name: "empty version", args: []string{"--host-os="}, base: server2022, wantGiven: true, wantErr: "--host-os: "},
		{name: "bad sku", args: []string{"--host-os", "17763", "--host-sku", "desktop"}, base: server2022, wantGiven: true,
			wantErr: `--host-sku "desktop": must be server or client`},
		{name: "sku is taken as written", args: []string{"--host-sku", "Server"}, base: server2022, wantGiven: true,
			wantErr: `--host-sku "Server": must be server or client`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f hostFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			f.register(fs, tt.skuDefault)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if got := f.given(fs); got != tt.wantGiven {
				t.Errorf("given = %v, want %v", got, tt.wantGiven)
			}
			got, err := f.apply(fs, tt.base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
