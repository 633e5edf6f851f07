package main

import (
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/reconcile"
)

// rollbacks reads the specs this owner's runs and agent rolled back on
// this host (reconcile.Rollbacks), kept beside the removal ledger.
func (g *globals) rollbacks() (*reconcile.Rollbacks, error) {
	path, err := g.agentFile(".rollbacks.json")
	if err != nil {
		return nil, err
	}
	return reconcile.LoadRollbacks(path)
}

// markRolledBack marks, in a status list, this owner's containers whose
// last rollout was rolled back. A record that cannot be read is logged:
// status still shows the host.
func (g *globals) markRolledBack(list []statusContainer) {
	r, err := g.rollbacks()
	if err != nil {
		g.log.Warn("rolled-back updates not shown", zap.Error(err))
		return
	}
	records := r.Active()
	for i := range list {
		if rec, ok := records[list[i].Name]; ok && list[i].Managed {
			list[i].Update, list[i].RolledBack = reconcile.RolledBackStatus, &rec
		}
	}
}
