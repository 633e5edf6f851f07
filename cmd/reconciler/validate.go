package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func newValidateCommand(g *globals) *cobra.Command {
	var (
		host         hostFlags
		strict, deny bool
	)
	cmd := &cobra.Command{
		Use:   "validate [flags] PATH...",
		Short: "Parse and validate manifests and check them against a host; changes nothing",
		Long: `validate loads every manifest under PATH, reports every problem with its file, line and
field, and checks each image's OS version against the host for its isolation mode;
for isolation: auto it shows the mode chosen on that host and why (= lines). The host
is the driver's (--driver) unless --host-os names one, e.g. --host-os ltsc2019
--host-sku server (a server with Hyper-V unless --host-sku and --no-hyperv, which go
with --host-os, say otherwise). Exit 0 when valid, 1 otherwise.`,
		Example: `  reconciler validate examples/manifests
  reconciler validate --host-os 10.0.17763.5329 --host-sku client ./manifests`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeManifestPaths,
		RunE: func(cmd *cobra.Command, paths []string) error {
			set, err := spec.Load(paths...)
			if err != nil {
				return err
			}
			h, err := g.validationHost(cmd, &host)
			if err != nil {
				return err
			}
			policy := reconcile.Policy{Owner: g.owner, Strict: strict, DenyHostAccess: deny}
			plan := reconcile.ComputePlan(set, nil, h, policy)
			plan.DryRun = true
			if g.data() {
				err = g.writeEncoded(func(w io.Writer) error { return reconcile.WriteJSON(w, plan) })
			} else {
				err = reconcile.WriteValidation(g.stdout, plan, len(set.Containers), isTerminal(g.stdout))
			}
			if err != nil {
				return err
			}
			if len(plan.Errors) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	host.register(fl, string(spec.SKUServer))
	fl.BoolVar(&strict, "strict", false, "an image whose OS version cannot be told is an error")
	fl.BoolVar(&deny, "deny-host-access", false, "manifests that pierce the isolation boundary are errors")
	return cmd
}

// validationHost is the host validate checks against: the one the host
// flags describe (a server with Hyper-V unless they say otherwise) when
// --host-os is given, else the driver's.
func (g *globals) validationHost(cmd *cobra.Command, f *hostFlags) (spec.Host, error) {
	if f.os == "" {
		if cmd.Flags().Changed("host-sku") || f.noHyperV {
			return spec.Host{}, fmt.Errorf("--host-sku and --no-hyperv go with --host-os")
		}
		d, closeDriver, err := g.openDriver(cmd.Context())
		if err != nil {
			return spec.Host{}, err
		}
		defer closeDriver()
		return d.Host(cmd.Context())
	}
	return f.apply(cmd.Flags(), spec.Host{SKU: spec.SKUServer, HyperV: true})
}
