package main

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/reconcile"
)

// restartLedger reads the restart ledger (the flap limit's counts) this
// owner's runs and agent keep on this host, next to the removal ledger.
func (g *globals) restartLedger() (string, reconcile.RestartLedger, error) {
	path, err := g.agentFile(".restarts.json")
	if err != nil {
		return "", reconcile.RestartLedger{}, err
	}
	l, err := reconcile.LoadRestartLedger(path)
	return path, l, err
}

// recordRestarts adds the restarts a one-shot pass made to the ledger and
// saves it, so that the next runs and the agent count them.
func (g *globals) recordRestarts(path string, l *reconcile.RestartLedger, plan reconcile.Plan) {
	if changed, _ := l.Record(time.Now(), plan); !changed {
		return
	}
	if err := l.Save(path); err != nil {
		g.log.Warn("the restarts of this run will not count against the containers' restartLimit", zap.Error(err))
	}
}

// annotate adds to each container of list (this owner's) why the flap
// limit left it stopped, and its health by one check (see
// reconcile.CheckRunning).
func (g *globals) annotate(ctx context.Context, d driver.Driver, list []statusContainer) {
	systems := make([]driver.System, len(list))
	for i, c := range list {
		systems[i] = c.System
	}
	notes := g.stateNotes(systems)
	health := reconcile.CheckRunning(ctx, d, systems, g.owner, time.Now())
	for i := range list {
		list[i].StateReason = notes[list[i].ID]
		if h, ok := health[list[i].ID]; ok {
			list[i].Health, list[i].LastHealthFailure = h.Health, h.LastFailure
		}
	}
}

// stateNotes says, for each system of this owner the flap limit left
// stopped, why: "restart limit: 5 in 10m". A ledger that cannot be read
// leaves the notes out (status only reads).
func (g *globals) stateNotes(systems []driver.System) map[string]string {
	_, l, err := g.restartLedger()
	if err != nil {
		g.log.Debug("restart ledger not read", zap.Error(err))
		return nil
	}
	notes := map[string]string{}
	now := time.Now()
	for _, s := range systems {
		if s.Owner != g.owner {
			continue
		}
		if n := l.LimitedAt(now, s); n != "" {
			notes[s.ID] = n
		}
	}
	return notes
}
