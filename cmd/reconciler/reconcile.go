package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func newReconcileCommand(g *globals) *cobra.Command {
	var f applyFlags
	var detailed bool
	var against string
	cmd := &cobra.Command{
		Use:   "reconcile [flags] PATH...",
		Short: "One pass: load the manifests, plan, and apply (or only plan, with --dry-run)",
		Long: `reconcile loads every manifest under PATH (files or folders, recursively), compares the
declared containers with the live compute systems of the host, and converges once:
+ create what is missing, ~ recreate what changed (isolation mode, spec, or exited
under its restartPolicy), - remove what this owner runs but no longer declares.

Safety: containers of other owners are never touched; nothing is removed while any
manifest is invalid; an image the host cannot run never replaces a running one.
Removals are counted over --removal-window (10m), across runs and with those of a
running agent of the same owner: beyond --max-removals (more than half of the owned
containers) they are held, shown as "-? NAME ... held" (status "held" in JSON) until
approved (--allow-mass-removal here, "reconciler removals approve" for an agent).
A new container must pass its healthcheck within update.progressDeadline; a rollout
that does not is rolled back (update.autoRollback, the default), and its spec is held,
"~? NAME recreate ... held", until the manifest changes. update.strategy: startFirst
starts the new container beside the old one when the two can coexist.

Exit codes: 0 done or nothing to do; 1 any error (invalid manifest, incompatible
image, failed action); 2 with --detailed-exitcode when changes are pending (dry run,
or held removals) or were made. With -o json the plan is printed on stdout whatever
the exit code; -o markdown prints it as Markdown (a CI job summary).`,
		Example: `  reconciler reconcile examples/manifests
  reconciler reconcile --dry-run --detailed-exitcode -o json ./manifests
  reconciler status -o json > web1.json      # on host web1
  reconciler reconcile --dry-run --against web1.json hosts/web1   # in CI: what would change on web1`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeManifestPaths,
		RunE: func(cmd *cobra.Command, paths []string) error {
			if err := f.check(); err != nil {
				return err
			}
			// load reads the manifests, the paths filled with the facts of
			// the host planned for.
			load := func(host func(context.Context) (spec.Host, error)) (spec.Set, error) {
				paths, err := g.expandPaths(paths, f.hostFacts, func() (spec.Host, error) { return host(cmd.Context()) })
				if err != nil {
					return spec.Set{}, err
				}
				return spec.Load(paths...)
			}
			if against != "" {
				if !f.dryRun {
					return fmt.Errorf("--against plans against a snapshot of another host, which cannot be changed from here: add --dry-run")
				}
				snapshot, err := loadSnapshot(against)
				if err != nil {
					return err
				}
				set, err := load(snapshot.Host)
				if err != nil {
					return err
				}
				// That host's removal ledger is on that host: removals are
				// counted against this pass alone.
				plan, err := reconcile.Converge(cmd.Context(), snapshot, set, f.policy(g.owner), f.executor(snapshot, g), true)
				if err != nil {
					return err
				}
				return g.finishPlan(plan, detailed)
			}
			d, closeDriver, err := g.openDriver(cmd.Context())
			if err != nil {
				return err
			}
			defer closeDriver()
			set, err := load(d.Host)
			if err != nil {
				return err
			}
			if !f.dryRun {
				lock, err := g.lockAgent()
				if err != nil {
					return err
				}
				defer lock.Unlock()
			}
			st, err := g.agentState()
			if err != nil {
				return err
			}
			policy := f.policy(g.owner)
			policy.Removals = st.ledger.Window(time.Now(), f.removalWindow)
			policy.Restarts = st.restarts.At(time.Now())
			policy.RolledBack = st.rollbacks.Active()
			ex := f.executor(d, g)
			if !f.dryRun {
				ex.Rollbacks = st.rollbacks
			}
			plan, err := reconcile.Converge(cmd.Context(), d, set, policy, ex, f.dryRun)
			if err != nil {
				return err
			}
			if !f.dryRun && st.ledger.Record(time.Now(), f.removalWindow, plan) {
				if err := st.ledger.Save(st.ledgerPath); err != nil {
					g.log.Warn("the removals of this run will not count against the next runs' --max-removals", zap.Error(err))
				}
			}
			if !f.dryRun {
				g.recordRestarts(st.restartsPath, &st.restarts, plan)
				if err := st.rollbacks.Keep(plan.RolledBackNames()); err != nil {
					g.log.Warn("the rollback record was not updated", zap.Error(err))
				}
			}
			return g.finishPlan(plan, detailed)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when changes are pending (dry run) or were made")
	cmd.Flags().StringVar(&against, "against", "", "with --dry-run: plan against FILE, the output of `reconciler status -o json` taken on another host, instead of this host")
	return cmd
}

// finishPlan prints the plan and returns the exit the plan calls for.
func (g *globals) finishPlan(plan reconcile.Plan, detailed bool) error {
	if err := g.writePlan(plan); err != nil {
		return err
	}
	switch {
	case plan.Failed():
		return &exitError{code: 1}
	case detailed && len(plan.Actions) > 0:
		return &exitError{code: 2}
	}
	return nil
}

// agentState is what an agent of this owner keeps across runs in its
// state directory.
type agentState struct {
	ledgerPath   string
	ledger       reconcile.RemovalLedger
	restartsPath string
	restarts     reconcile.RestartLedger
	rollbacks    *reconcile.Rollbacks
}

// agentState loads it.
func (g *globals) agentState() (st agentState, err error) {
	if st.ledgerPath, st.ledger, err = g.removalLedger(); err != nil {
		return st, err
	}
	if st.restartsPath, st.restarts, err = g.restartLedger(); err != nil {
		return st, err
	}
	st.rollbacks, err = g.rollbacks()
	return st, err
}

// removalLedger reads the removal ledger this owner's runs and agent keep
// on this host.
func (g *globals) removalLedger() (string, reconcile.RemovalLedger, error) {
	path, err := g.agentFile(".removals.json")
	if err != nil {
		return "", reconcile.RemovalLedger{}, err
	}
	l, err := reconcile.LoadRemovalLedger(path)
	return path, l, err
}

// writePlan prints a plan in the chosen output format: -o markdown is
// the JSON plan rendered as Markdown.
func (g *globals) writePlan(p reconcile.Plan) error {
	if g.output == "markdown" {
		var doc bytes.Buffer
		if err := reconcile.WriteJSON(&doc, p); err != nil {
			return err
		}
		return writeMarkdown(g.stdout, doc.Bytes())
	}
	if g.data() {
		return g.writeEncoded(func(w io.Writer) error { return reconcile.WriteJSON(w, p) })
	}
	return reconcile.WriteText(g.stdout, p, isTerminal(g.stdout))
}
