package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/driver"
)

func newPsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ps NAME",
		Short: "A container's processes, and what the host sees of them",
		Long: `ps shows the processes inside container NAME (a name or compute system id) and the
host processes that belong to it. With process isolation the host sees the very same
processes with the same PIDs; with Hyper-V isolation it sees only the worker process
(vmwp.exe) of the container's utility VM.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeContainerNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, closeDriver, err := g.openDriver(cmd.Context())
			if err != nil {
				return err
			}
			defer closeDriver()
			viewer, ok := d.(driver.ProcessViewer)
			if !ok {
				return fmt.Errorf("the %s driver cannot list processes", g.driver)
			}
			sys, err := findSystem(cmd, d, args[0], g.owner)
			if err != nil {
				return err
			}
			view, err := viewer.Processes(cmd.Context(), sys.ID)
			if err != nil {
				return err
			}
			if g.data() {
				return g.writeData(struct {
					Name      string `json:"name"`
					ID        string `json:"id"`
					Isolation string `json:"isolation"`
					driver.ProcessView
				}{sys.Name, sys.ID, string(sys.Isolation), view})
			}
			fmt.Fprintf(g.stdout, "%s (%s isolation, id %s)\n", sys.Name, sys.Isolation, sys.ID)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEEN FROM\tPID\tNAME\tCOMMAND")
			for _, p := range view.Container {
				fmt.Fprintf(tw, "container\t%d\t%s\t%s\n", p.PID, p.Name, p.Command)
			}
			for _, p := range view.Host {
				fmt.Fprintf(tw, "host\t%d\t%s\t%s\n", p.PID, p.Name, p.Command)
			}
			return tw.Flush()
		},
	}
}

// findSystem finds a compute system by id or name, preferring this owner's.
func findSystem(cmd *cobra.Command, d driver.Driver, nameOrID, owner string) (driver.System, error) {
	systems, err := d.List(cmd.Context())
	if err != nil {
		return driver.System{}, err
	}
	var found *driver.System
	for i, s := range systems {
		if s.ID == nameOrID {
			return s, nil
		}
		if s.Name == nameOrID && (found == nil || s.Owner == owner) {
			found = &systems[i]
		}
	}
	if found == nil {
		return driver.System{}, fmt.Errorf("no compute system named %q on this host (see reconciler status)", nameOrID)
	}
	return *found, nil
}
