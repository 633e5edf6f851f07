package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func newValidateCommand(g *globals) *cobra.Command {
	var (
		host         hostFlags
		facts        factsFlags
		fleet        string
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
  reconciler validate --fleet examples/fleet/fleet.yaml examples/fleet/shared 'examples/fleet/hosts/{hostname}'
  reconciler validate --host-os 10.0.17763.5329 --host-sku client ./manifests`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeManifestPaths,
		RunE: func(cmd *cobra.Command, paths []string) error {
			policy := reconcile.Policy{Owner: g.owner, Strict: strict, DenyHostAccess: deny}
			if fleet != "" {
				if host.given(cmd.Flags()) || cmd.Flags().Changed("hostname") || cmd.Flags().Changed("host-label") {
					return fmt.Errorf("--fleet describes the hosts: --host-os, --host-sku, --no-hyperv, --hostname and --host-label go without it")
				}
				return g.validateFleet(fleet, paths, policy)
			}
			hf, err := facts.facts()
			if err != nil {
				return err
			}
			h, err := g.validationHost(cmd, &host)
			if err != nil {
				return err
			}
			paths, err = g.expandPaths(paths, hf, func() (spec.Host, error) { return h, nil })
			if err != nil {
				return err
			}
			set, err := spec.Load(paths...)
			if err != nil {
				return err
			}
			policy.Facts = hf
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
	facts.register(fl)
	fl.StringVar(&fleet, "fleet", "", "FLEET.yaml (hosts: [{name, build, sku, labels}]): show what each host would run, with which isolation, and fail on any host where something cannot run; PATH may be a template ("+spec.PathPlaceholders+")")
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

// validateFleet is validate --fleet: every host of the fleet file plans
// the set it would load (its own when the paths are templates).
func (g *globals) validateFleet(file string, paths []string, policy reconcile.Policy) error {
	fleet, problems := spec.LoadFleet(file)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(g.stderr, "! "+p.Error())
		}
		return &exitError{code: 1, err: fmt.Errorf("--fleet %s: %d problem(s)", file, len(problems))}
	}
	sets := make([]spec.Set, len(fleet.Hosts))
	loaded := map[string]spec.Set{}
	for i, h := range fleet.Hosts {
		hp, err := expandAll(paths, h.Facts(), h.Host())
		if err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		key := strings.Join(hp, "\x00")
		set, ok := loaded[key]
		if !ok {
			if set, err = spec.Load(hp...); err != nil {
				return fmt.Errorf("host %s: %w", h.Name, err)
			}
			loaded[key] = set
		}
		sets[i] = set
	}
	fp := reconcile.PlanFleet(fleet.Hosts, sets, policy)
	var err error
	if g.data() {
		err = g.writeData(fp.View())
	} else {
		err = reconcile.WriteFleet(g.stdout, fp, isTerminal(g.stdout))
	}
	if err != nil {
		return err
	}
	if fp.Failed() {
		return &exitError{code: 1}
	}
	return nil
}
