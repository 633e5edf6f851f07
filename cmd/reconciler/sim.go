package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func newSimCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Drive the emulated host: what happens on a host behind the agent's back",
		Long: `sim changes the emulated HCS host (--driver sim) the way the world changes a real host:
another tool starts a container, a container's main process exits, a reboot makes one
vanish, the host is a different Windows build. The state file is --sim-state
(or $RECONCILER_SIM_STATE); "sim host" prints its path.`,
	}
	cmd.AddCommand(newSimHostCommand(g), newSimCreateCommand(g), newSimKillCommand(g), newSimRmCommand(g), newSimFaultCommand(g))
	return cmd
}

// withSim runs fn on the opened emulated host.
func withSim(g *globals, fn func(h *sim.EmulatedHost) error) error {
	h, err := g.openSim()
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h)
}

func newSimHostCommand(g *globals) *cobra.Command {
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "host [--host-os ltsc2019|17763|10.0.17763.5329] [--host-sku server|client] [--no-hyperv]",
		Short: "Show, or set, the emulated host (a new state is Windows Server 2022, build 20348)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				ctx := cmd.Context()
				host, err := h.Host(ctx)
				if err != nil {
					return err
				}
				if hf.given(cmd.Flags()) {
					if host, err = hf.apply(cmd.Flags(), host); err != nil {
						return err
					}
					if err := h.SetHost(ctx, host); err != nil {
						return err
					}
				}
				if g.data() {
					return g.writeData(struct {
						State string `json:"state"`
						reconcile.HostJSON
						HyperV bool `json:"hyperv"`
					}{h.Path(), reconcile.HostView(host), host.HyperV})
				}
				fmt.Fprintf(g.stdout, "emulated host: %s, %s, default isolation %s, Hyper-V %s\nstate file: %s\n",
					host, host.SKU, host.DefaultIsolation(), yesNo(host.HyperV, "available", "not available"), h.Path())
				return nil
			})
		},
	}
	hf.register(cmd.Flags(), "")
	return cmd
}

func newSimCreateCommand(g *globals) *cobra.Command {
	var image, isolation, owner string
	var command []string
	cmd := &cobra.Command{
		Use:   "create NAME --image IMG [--isolation process|hyperv] [--owner docker]",
		Short: `Start a container as someone else would (owner defaults to "docker")`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				host, err := h.Host(cmd.Context())
				if err != nil {
					return err
				}
				iso := host.Effective(spec.Isolation(isolation))
				if iso != spec.IsolationProcess && iso != spec.IsolationHyperV {
					return fmt.Errorf("--isolation %q: must be process or hyperv", isolation)
				}
				s, err := h.Create(cmd.Context(), driver.CreateRequest{
					Name: args[0], Owner: owner, Isolation: iso,
					Spec: spec.ContainerSpec{Image: image, Isolation: iso, Command: command},
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "created %s (id %s, owner %s, %s isolation)\n", s.Name, s.ID, s.Owner, s.Isolation)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&image, "image", "", "image reference (required)")
	cmd.Flags().StringVar(&isolation, "isolation", "default", "process, hyperv or default (the host's)")
	cmd.Flags().StringVar(&owner, "owner", "docker", "HCS owner of the new container")
	cmd.Flags().StringSliceVar(&command, "command", nil, "the container's command")
	_ = cmd.MarkFlagRequired("image")
	return cmd
}

func newSimKillCommand(g *globals) *cobra.Command {
	var code int
	cmd := &cobra.Command{
		Use:   "kill NAME",
		Short: "Make a container's main process exit; its compute system stops",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				if err := h.Kill(cmd.Context(), args[0], code); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%s exited with code %d\n", args[0], code)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&code, "exit-code", 1, "the exit code of the main process")
	return cmd
}

func newSimRmCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Make a container disappear, as after a host reboot",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				if err := h.Delete(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%s is gone\n", args[0])
				return nil
			})
		},
	}
}

func newSimFaultCommand(g *globals) *cobra.Command {
	var f sim.Faults
	var clear bool
	cmd := &cobra.Command{
		Use:   "fault [--latency D] [--transient N] [--fail NAME]... [--fail-image IMG]... [--fail-port PORT]... | --clear",
		Short: "Show, or replace, the latency and faults the emulated host injects into creates and removes",
		Long: `fault shows the faults the emulated host injects, or replaces them all with the ones
given (a fault not given is cleared):
  --fail NAME        creates of that container name fail, except of a container of that
                     name running when the fault is set: its new spec fails, its old
                     spec can be restored
  --fail-image IMG   pulling that image fails, as when the registry does not have it:
                     the agent's image preparation and every create of it fail
  --fail-port PORT   another program holds that host port: a create publishing it fails`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				fl := cmd.Flags()
				if clear || fl.Changed("latency") || fl.Changed("transient") || fl.Changed("fail") || fl.Changed("fail-image") || fl.Changed("fail-port") {
					if err := h.SetFaults(cmd.Context(), f); err != nil {
						return err
					}
				}
				cur, err := h.Faults(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "latency %s, next %d create/remove call(s) fail transiently, creates of %v fail (not of %v), pulls of %v fail, host ports %v are taken\n",
					cur.Latency, cur.TransientFailures, cur.FailNames, cur.Spared(), cur.FailImages, cur.FailPorts)
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&f.Latency, "latency", 0, "added to every create and remove, e.g. 500ms")
	cmd.Flags().IntVar(&f.TransientFailures, "transient", 0, "the next N creates/removes fail with a transient error")
	cmd.Flags().StringSliceVar(&f.FailNames, "fail", nil, "creates of these names fail permanently (but not of their containers running now)")
	cmd.Flags().StringSliceVar(&f.FailImages, "fail-image", nil, "pulls of these images fail permanently (image preparation and create)")
	cmd.Flags().IntSliceVar(&f.FailPorts, "fail-port", nil, "these host ports are taken: creates publishing one fail permanently")
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every fault")
	return cmd
}
