package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/winsvc"
)

func newServiceCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service install|uninstall|start|stop|status",
		Short: "Run the agent as a Windows service (Windows only)",
		Long: `service installs and controls the agent as the Windows service "` + winsvc.Name + `"
("` + winsvc.DisplayName + `"): started automatically at boot (delayed start),
restarted by the SCM when it fails (after 5 s, 30 s, then every 60 s; the count starts
over after a day without failure), running

  "<this reconciler.exe>" watch --config "<config file>"

as LocalSystem. The config file (default ` + winsvc.DefaultConfigPath() + `) holds the
flags of "reconciler watch". Under the SCM the agent logs JSON lines to
` + winsvc.LogDir() + ` (rotated) and writes its start, stop, failed actions,
held removals, rollbacks, failing sources and recoveries to the Application event
log, source "` + winsvc.EventSource + `" (ids in the README). A stop or a shutdown ends it
as SIGTERM does on a console: operations in flight finish or time out.

Install, uninstall, start and stop need an elevated prompt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var configPath string
	install := &cobra.Command{
		Use:   "install",
		Short: `Install the service, running "watch --config FILE" from this executable`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serviceInstall(g, configPath)
		},
	}
	install.Flags().StringVar(&configPath, "config", winsvc.DefaultConfigPath(), "config file the service runs from (checked now if it exists)")
	_ = install.MarkFlagFilename("config", "yaml", "yml")
	simple := func(use, short, done string, fn func() error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error {
			if err := fn(); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "service %s %s\n", winsvc.Name, done)
			return nil
		}}
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Say whether the service is installed and running",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			st, err := winsvc.Status()
			if err != nil {
				return err
			}
			writeServiceState(g.stdout, st)
			return nil
		},
	}
	cmd.AddCommand(install,
		simple("uninstall", "Stop and remove the service and its event source", "uninstalled", winsvc.Uninstall),
		simple("start", "Start the service and wait until it runs", "running", winsvc.Start),
		simple("stop", "Stop the service and wait until it has stopped", "stopped", winsvc.Stop),
		status)
	return cmd
}

// serviceInstall installs the service running this executable with the
// config file at path, refusing a config file that exists and does not
// load: the service would fail at every start.
func serviceInstall(g *globals, path string) error {
	if runtime.GOOS != "windows" {
		return winsvc.ErrWindowsOnly // before any check of the config file
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this executable: %w", err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return err
	}
	switch _, err := os.Stat(path); {
	case errors.Is(err, os.ErrNotExist):
		g.log.Warn("config file does not exist yet: write it before starting the service", zap.String("path", path))
	case err != nil:
		return fmt.Errorf("config file: %w", err)
	default:
		if err := checkConfigFile(path); err != nil {
			return fmt.Errorf("the service would not start: %w", err)
		}
	}
	if err := winsvc.Install(exe, path); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "service %s installed: %s\nstart it with: reconciler service start\n", winsvc.Name, winsvc.CommandLine(exe, path))
	return nil
}

// checkConfigFile reads the config file at path as "watch --config path"
// would, without running anything.
func checkConfigFile(path string) error {
	g := &globals{stdout: io.Discard, stderr: io.Discard}
	watch, _, err := newRootCommand(g).Find([]string{"watch"})
	if err != nil {
		return err
	}
	if err := watch.ParseFlags([]string{"--config", path}); err != nil {
		return err
	}
	return g.loadConfig(watch)
}

// writeServiceState prints the service's state for a person.
func writeServiceState(w io.Writer, st winsvc.State) {
	if !st.Installed {
		fmt.Fprintf(w, "service %s is not installed\n", winsvc.Name)
		return
	}
	fmt.Fprintf(w, "service:   %s (%s)\nstate:     %s", winsvc.Name, winsvc.DisplayName, st.State)
	if st.PID != 0 {
		fmt.Fprintf(w, " (pid %d)", st.PID)
	}
	if st.State == "stopped" && st.ExitCode != 0 {
		fmt.Fprintf(w, ", last stop with an error (exit code %d): see the event log and %s", st.ExitCode, winsvc.LogDir())
	}
	fmt.Fprintf(w, "\nstart:     %s\ncommand:   %s\nlogs:      %s\n", st.StartType, st.CommandLine, winsvc.LogDir())
}
