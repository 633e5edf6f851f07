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
	cmd.AddCommand(newSimHostCommand(g), newSimCreateCommand(g), newSimKillCommand(g), newSimRmCommand(g), newSimFaultCommand(g), newSimHealthCommand(g))
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
		Use:   "fault [--latency D] [--transient N] [--fail NAME]... [--pull-latency D] [--pull-fail IMG]... [--fail-port PORT]... | --clear",
		Short: "Show, or replace, the latency and faults the emulated host injects into creates, removes and pulls",
		Long: `fault shows the faults the emulated host injects, or replaces them all with the ones
given (a fault not given is cleared):
  --fail NAME        creates of that container name fail, except of a container of that
                     name running when the fault is set: its new spec fails, its old
                     spec can be restored
  --pull-latency D   pulling an image the host does not have yet takes D: the agent's
                     image preparation, and a create of an image not prepared before;
                     an image pulled once is not pulled again
  --pull-fail IMG    pulling that image fails ("manifest unknown"), as when the registry
                     does not have it: the agent's image preparation and every create
                     of it fail (--fail-image is the same)
  --fail-port PORT   another program holds that host port: a create publishing it fails`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				fl := cmd.Flags()
				if clear || fl.Changed("latency") || fl.Changed("transient") || fl.Changed("fail") || fl.Changed("fail-image") || fl.Changed("pull-fail") || fl.Changed("pull-latency") || fl.Changed("fail-port") {
					if err := h.SetFaults(cmd.Context(), f); err != nil {
						return err
					}
				}
				cur, err := h.Faults(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "latency %s, next %d create/remove call(s) fail transiently, creates of %v fail (not of %v), pulls take %s, pulls of %v fail, host ports %v are taken\n",
					cur.Latency, cur.TransientFailures, cur.FailNames, cur.Spared(), cur.PullLatency, cur.FailImages, cur.FailPorts)
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&f.Latency, "latency", 0, "added to every create and remove, e.g. 500ms")
	cmd.Flags().IntVar(&f.TransientFailures, "transient", 0, "the next N creates/removes fail with a transient error")
	cmd.Flags().StringSliceVar(&f.FailNames, "fail", nil, "creates of these names fail permanently (but not of their containers running now)")
	cmd.Flags().StringSliceVar(&f.FailImages, "pull-fail", nil, "pulls of these images fail permanently, manifest unknown (image preparation and create)")
	cmd.Flags().StringSliceVar(&f.FailImages, "fail-image", nil, "the same as --pull-fail")
	cmd.Flags().DurationVar(&f.PullLatency, "pull-latency", 0, "how long a pull of an image the host does not have takes, e.g. 2s")
	cmd.Flags().IntSliceVar(&f.FailPorts, "fail-port", nil, "these host ports are taken: creates publishing one fail permanently")
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every fault")
	return cmd
}

func newSimHealthCommand(g *globals) *cobra.Command {
	var image bool
	cmd := &cobra.Command{
		Use:   "health [NAME ok|fail] [--image IMG ok|fail]",
		Short: "Show, or set, what the health checks of a container name or an image report",
		Long: `health sets what the emulated host's health checks report from now on: those of the
containers named NAME (running now or created later), or, with --image, of the
containers of that image. A name's setting wins over its image's; containers report
ok unless set to fail, and a container that is not running always fails its check.
Without arguments it shows the settings; -o json prints them (after the change).`,
		Example: `  reconciler sim health web fail
  reconciler sim health --image contoso/app:v2 fail
  reconciler sim health web ok`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return fmt.Errorf("want NAME ok|fail (or --image IMG ok|fail), or nothing to show the settings")
			}
			if image && len(args) == 0 {
				return fmt.Errorf("--image needs IMG ok|fail")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSim(g, func(h *sim.EmulatedHost) error {
				if len(args) == 2 {
					set := sim.HealthSetting{Name: args[0], State: sim.HealthState(args[1])}
					what := "containers named " + args[0]
					if image {
						set.Name, set.Image = "", args[0]
						what = "containers of " + args[0]
					}
					if err := h.SetHealth(cmd.Context(), set); err != nil {
						return err
					}
					if !g.data() {
						fmt.Fprintf(g.stdout, "health checks of %s report %s from now on\n", what, set.State)
						return nil
					}
				}
				hs, err := h.Health(cmd.Context())
				if err != nil {
					return err
				}
				if g.data() {
					return g.writeData(hs)
				}
				fmt.Fprintf(g.stdout, "names %v, images %v; any other container reports ok\n", hs.Names, hs.Images)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&image, "image", false, "the first argument is an image reference, not a container name")
	return cmd
}
