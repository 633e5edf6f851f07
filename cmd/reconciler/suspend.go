package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/reconcile/statusapi"
)

// agentFlags are the flags of the commands that call a running agent.
type agentFlags struct {
	agent     string
	tokenFile string
	timeout   time.Duration
}

func (f *agentFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.agent, "agent", "", "the running agent's --listen address: 127.0.0.1:9440, unix:///run/reconciler.sock or npipe:////./pipe/reconciler")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the agent's API token (its --api-token-file)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the agent's answer")
}

// client returns an HTTP client of the agent and its API's base URL.
func (f *agentFlags) client() (*http.Client, string, error) {
	var token []byte
	if f.tokenFile != "" {
		var err error
		if token, err = statusapi.ReadSecretFile("API token", f.tokenFile); err != nil {
			return nil, "", err
		}
	}
	return statusapi.NewClient(f.agent, token, f.timeout)
}

func newSuspendCommand(g *globals) *cobra.Command {
	var f agentFlags
	var reason string
	cmd := &cobra.Command{
		Use:   "suspend --agent ADDR [--token-file FILE] [--reason TEXT]",
		Short: "Suspend a running agent: it goes on planning and reporting, and applies nothing",
		Long: `suspend tells the agent listening at --agent to stop applying: its passes still run
on every trigger, log their plan and show it in GET /status (with "suspension"), but
change nothing on the host, until "reconciler resume". The suspension is kept in the
agent's state folder, so a restart (or a reboot) stays suspended.

The agent takes it with its API token (--token-file, the file given to the agent as
--api-token-file) or on its owner-only unix socket or named pipe.`,
		Example: `  reconciler suspend --agent 127.0.0.1:9440 --token-file C:\secrets\api-token --reason "patching"
  reconciler suspend --agent unix:///run/reconciler.sock`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.requestSuspension(cmd, &f, true, reason) },
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown in GET /status and the agent's log")
	_ = cmd.MarkFlagRequired("agent")
	return cmd
}

func newResumeCommand(g *globals) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "resume --agent ADDR [--token-file FILE]",
		Short: "Resume a suspended agent: it applies again, starting with a pass now",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return g.requestSuspension(cmd, &f, false, "") },
	}
	f.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("agent")
	return cmd
}

// requestSuspension asks the agent to suspend or resume and prints the
// state in force.
func (g *globals) requestSuspension(cmd *cobra.Command, f *agentFlags, suspend bool, reason string) error {
	client, base, err := f.client()
	if err != nil {
		return err
	}
	st, err := statusapi.RequestSuspension(cmd.Context(), client, base, suspend, reason)
	if err != nil {
		return err
	}
	if g.data() {
		return g.writeData(st)
	}
	if !st.Suspended {
		_, err = fmt.Fprintln(g.stdout, "the agent applies (not suspended); it starts a pass now")
		return err
	}
	_, err = fmt.Fprintf(g.stdout, "the agent is suspended since %s: it plans and reports, and applies nothing until resumed\n", st.Since.Local().Format(time.DateTime))
	return err
}
