// Package reconcile owns the reconciler's decisions and their execution:
// the Planner (a pure function from the desired set, the live compute
// systems, the host and the policy to a Plan), the Executor (applies a
// plan with bounded parallelism, retries and timeouts) and the Agent (the
// level-triggered loop over sources). The desired set is spec.Set
// throughout: a source's snapshot, the merge of several, the planner's
// input.
//
// reconcile imports spec and driver; it never imports a driver
// implementation, nor reconcile/source (nor so go-git): it declares the
// Source interface it consumes, and cmd/reconciler wires the
// implementations in. TestNoSourceImplementationDeps keeps that true.
package reconcile
