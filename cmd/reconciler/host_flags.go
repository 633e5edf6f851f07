package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/spec"
)

// hostFlags are --host-os, --host-sku and --no-hyperv: a Windows host
// described on the command line (validate checks against it, sim host
// sets it).
type hostFlags struct {
	os       string
	sku      string
	noHyperV bool
}

func (f *hostFlags) register(fs *pflag.FlagSet, skuDefault string) {
	fs.StringVar(&f.os, "host-os", "", "host OS: a release (ltsc2022, server2025, win10-22H2, win11-24H2), a feature version (23H2, with --host-sku), a build (17763) or a full version (10.0.17763.5329)")
	fs.StringVar(&f.sku, "host-sku", skuDefault, "server (Windows Server) or client (Windows 10/11)")
	fs.BoolVar(&f.noHyperV, "no-hyperv", false, "the host has no Hyper-V (--no-hyperv=false: it has)")
}

// given reports whether any of the host flags is on the command line.
func (f *hostFlags) given(fs *pflag.FlagSet) bool {
	return fs.Changed("host-os") || fs.Changed("host-sku") || fs.Changed("no-hyperv")
}

// apply returns base changed by the host flags given on fs: the build and
// revision of --host-os, the SKU of --host-sku (or the one the --host-os
// release implies), Hyper-V unless --no-hyperv. A flag not given leaves
// base's value.
func (f *hostFlags) apply(fs *pflag.FlagSet, base spec.Host) (spec.Host, error) {
	host := base
	var sku spec.SKU // given
	if fs.Changed("host-sku") {
		switch sku = spec.SKU(f.sku); sku {
		case spec.SKUServer, spec.SKUClient:
			host.SKU = sku
		default:
			return spec.Host{}, fmt.Errorf("--host-sku %q: must be server or client", f.sku)
		}
	}
	if fs.Changed("host-os") {
		v, implied, err := spec.ParseHostOS(f.os, sku)
		if err != nil {
			return spec.Host{}, fmt.Errorf("--host-os: %w", err)
		}
		host.Build, host.Revision = v.Build, v.Revision
		if implied != "" {
			host.SKU = implied
		}
	}
	if fs.Changed("no-hyperv") {
		host.HyperV = !f.noHyperV
	}
	return host, nil
}
