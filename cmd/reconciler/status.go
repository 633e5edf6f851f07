package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
)

func newStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [NAME]",
		Short: "List the host's live compute systems, or show one in detail",
		Long: `status lists every container compute system of the host, whatever its owner, as the
driver observes it live: isolation comes from live evidence, not from a record.
MANAGED is "yes" for the systems of this agent's --owner.

STATE says, for this owner's containers, why one stays stopped ("stopped (restart
limit: 5 in 10m)": it exited too often, see restartLimit) and the health of a running
one that declares a healthcheck: "running (healthy)", "(unhealthy)" or "(starting)"
(a failure within its startPeriod). status has no history of checks: it runs one
check of each such container now, a few at once, each bounded by its timeout (a
running agent keeps the health over time: GET /status at its --listen).

status NAME (a name or compute system id) shows one container in detail: owner, isolation,
state and exit code, image, spec hash, when it was created and on which host version, and
the spec it was created with (environment values hidden), where the driver kept it.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: g.completeContainerNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, closeDriver, err := g.openDriver(cmd.Context())
			if err != nil {
				return err
			}
			defer closeDriver()
			if len(args) == 1 {
				return g.statusOf(cmd, d, args[0])
			}
			host, err := d.Host(cmd.Context())
			if err != nil {
				return err
			}
			systems, err := d.List(cmd.Context())
			if err != nil {
				return err
			}
			list := make([]statusContainer, 0, len(systems))
			for _, s := range systems {
				list = append(list, statusContainer{System: s, Managed: s.Owner == g.owner})
			}
			g.annotate(cmd.Context(), d, list)
			g.markRolledBack(list)
			if g.data() {
				return g.writeData(statusReport{Host: &statusHost{HostJSON: reconcile.HostView(host), HyperV: host.HyperV}, Containers: list})
			}
			fmt.Fprintf(g.stdout, "host: %s, %s, default isolation %s, Hyper-V %s\n", host, host.SKU, host.DefaultIsolation(), yesNo(host.HyperV, "available", "not available"))
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tOWNER\tMANAGED\tISOLATION\tSTATE\tIMAGE\tID")
			for _, c := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Owner, yesNo(c.Managed, "yes", "no"), c.Isolation, c.stateText(), c.Image, c.ID)
			}
			return tw.Flush()
		},
	}
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
