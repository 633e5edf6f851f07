package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
)

func newRemovalsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "removals",
		Short: "Deal with the removals a running agent holds",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRemovalsApproveCommand(g))
	return cmd
}

func newRemovalsApproveCommand(g *globals) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "approve --agent ADDR [NAME...]",
		Short: "Approve the removals a running agent holds, once, without restarting it",
		Long: `approve tells the agent listening at --agent (its --listen address) to carry out the
removals it holds because they go beyond --max-removals within --removal-window: the
NAMEs given, or every removal held now. The agent starts a pass at once that removes
exactly those (if they are still undeclared) and opens a new removal window; a
removal held later needs a new approval. Removals held because a manifest is invalid
or a source cannot see its input are not approvable: fix the input instead.

The agent takes approvals from its own host only (a loopback address), as a JSON
POST to /removals/approve, with its API token (--token-file, the file given to the
agent as --api-token-file) or on its owner-only unix socket or named pipe. GET /status at --listen shows what is held (the last
plan), and the agent logs each hold once.`,
		Example: `  reconciler removals approve --agent 127.0.0.1:9440
  reconciler removals approve --agent 127.0.0.1:9440 --token-file C:\secrets\api-token web db
  reconciler removals approve --agent unix:///run/reconciler.sock`,
		RunE: func(cmd *cobra.Command, names []string) error {
			client, base, err := f.client()
			if err != nil {
				return err
			}
			approved, err := reconcile.RequestApproval(cmd.Context(), client, base, names)
			if err != nil {
				return err
			}
			if g.data() {
				return g.writeData(struct {
					Approved []string `json:"approved"`
				}{approved})
			}
			if len(approved) == 0 {
				_, err = fmt.Fprintln(g.stdout, "nothing approved: the agent holds no removal it could approve")
				return err
			}
			_, err = fmt.Fprintf(g.stdout, "approved %d removal(s): %s (the agent removes them in the pass it starts now)\n", len(approved), strings.Join(approved, ", "))
			return err
		},
	}
	f.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("agent")
	return cmd
}
