package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func newValidateCommand(g *globals) *cobra.Command {
	var (
		hostOS, hostSKU string
		noHyperV        bool
		strict, deny    bool
	)
	cmd := &cobra.Command{
		Use:   "validate [flags] PATH...",
		Short: "Parse and validate manifests and check them against a host; changes nothing",
		Long: `validate loads every manifest under PATH, reports every problem with its file, line and
field, and checks each image's OS version against the host for its isolation mode.
The host is the driver's (--driver) unless --host-os names one, e.g. --host-os ltsc2019
--host-sku server. Exit 0 when valid, 1 otherwise.`,
		Example: `  reconciler validate examples/manifests
  reconciler validate --host-os 10.0.17763.5329 --host-sku client ./manifests`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			set, err := spec.Load(paths...)
			if err != nil {
				return err
			}
			host, err := g.validationHost(cmd, hostOS, hostSKU, noHyperV)
			if err != nil {
				return err
			}
			policy := reconcile.Policy{Owner: g.owner, Strict: strict, DenyHostAccess: deny}
			plan := reconcile.ComputePlan(reconcile.Desired{Containers: set.Containers, Errors: set.Errors, Warnings: set.Warnings}, nil, host, policy)
			plan.DryRun = true
			if g.output == "json" {
				if err := reconcile.WriteJSON(g.stdout, plan); err != nil {
					return err
				}
			} else {
				for _, e := range plan.Errors {
					fmt.Fprintln(g.stdout, "! "+e.Error())
				}
				for _, w := range plan.Warnings {
					fmt.Fprintln(g.stdout, "warning: "+w.Error())
				}
				fmt.Fprintf(g.stdout, "%d container(s) checked against %s: %d error(s), %d warning(s)\n",
					len(set.Containers), host, len(plan.Errors), len(plan.Warnings))
			}
			if len(plan.Errors) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&hostOS, "host-os", "", "check against this host OS instead of the driver's: ltsc2019, 17763 or 10.0.17763.5329")
	fl.StringVar(&hostSKU, "host-sku", "server", "with --host-os: server or client")
	fl.BoolVar(&noHyperV, "no-hyperv", false, "with --host-os: the host has no Hyper-V")
	fl.BoolVar(&strict, "strict", false, "an image whose OS version cannot be told is an error")
	fl.BoolVar(&deny, "deny-host-access", false, "manifests that pierce the isolation boundary are errors")
	return cmd
}

// validationHost is the host validate checks against: --host-os, else the
// driver's.
func (g *globals) validationHost(cmd *cobra.Command, hostOS, hostSKU string, noHyperV bool) (spec.Host, error) {
	if hostOS == "" {
		if cmd.Flags().Changed("host-sku") || noHyperV {
			return spec.Host{}, fmt.Errorf("--host-sku and --no-hyperv go with --host-os")
		}
		d, closeDriver, err := g.openDriver(cmd.Context())
		if err != nil {
			return spec.Host{}, err
		}
		defer closeDriver()
		return d.Host(cmd.Context())
	}
	return parseHost(hostOS, hostSKU, !noHyperV)
}

// parseHost builds a host from the --host-os/--host-sku flags.
func parseHost(osVersion, sku string, hyperV bool) (spec.Host, error) {
	v, err := spec.ParseOSVersion(osVersion)
	if err != nil {
		return spec.Host{}, fmt.Errorf("--host-os: %w", err)
	}
	switch spec.SKU(sku) {
	case spec.SKUServer, spec.SKUClient:
	default:
		return spec.Host{}, fmt.Errorf("--host-sku %q: must be server or client", sku)
	}
	return spec.Host{Build: v.Build, Revision: v.Revision, SKU: spec.SKU(sku), HyperV: hyperV}, nil
}
