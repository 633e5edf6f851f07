package reconcile

import (
	"context"
	"strings"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// describeChanges names, for each recreate whose spec changed, the fields
// that changed (Action.Changes), and puts them in its reason in place of
// the hashes: "env.ORDERS_DB changed (value hidden), resources.memoryMB
// 1536 → 2048". The previous spec is the one the driver recorded at create
// (driver.RequestReader), when that record agrees with the live system
// (recordMismatch); the hash stays what decides. A driver without the
// capability, a system it kept no record of, a stale record or a read that
// fails leaves the reason as the planner wrote it. Reads only: a dry run does
// the same. The record also decides, with the live system, whether a
// startFirst can run beside the old container (strategyFor).
func describeChanges(ctx context.Context, reads readBounds, d driver.Driver, plan *Plan) {
	rr, ok := d.(driver.RequestReader)
	if !ok {
		return
	}
	for i := range plan.Actions {
		a := &plan.Actions[i]
		if a.Kind != ActionRecreate || a.request == nil || len(a.remove) != 1 || a.remove[0].SpecHash == a.request.SpecHash {
			continue
		}
		old := a.remove[0]
		prev, err := readBounded(ctx, reads, func(ctx context.Context) (driver.CreateRequest, error) {
			return rr.CreatedWith(ctx, old.ID)
		})
		if err != nil || recordMismatch(prev, old) != "" {
			continue
		}
		if a.existing == nil {
			a.Strategy, a.StrategyNote = strategyFor(old, &prev.Spec, a.request)
		}
		changes := spec.Diff(prev.Spec, a.request.Spec)
		if len(changes) == 0 {
			continue
		}
		words := make([]string, len(changes))
		for j, c := range changes {
			words[j] = c.String()
		}
		a.Changes = changes
		a.Reason = strings.Replace(a.Reason, specChangeReason(old, a.request), strings.Join(words, ", "), 1)
	}
}
