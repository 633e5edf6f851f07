// Package reconcile owns the reconciler's decisions and their execution:
// the Planner (a pure function from the desired set, the live compute
// systems, the host and the policy to a Plan), the Executor (applies a
// plan with bounded parallelism, retries and timeouts) and the Agent (the
// level-triggered loop over sources, which live in reconcile/source).
//
// reconcile imports spec and driver; it never imports a driver
// implementation.
package reconcile
