// Package statusapi is the agent's local HTTP API (watch --listen):
// GET /status (the last pass's plan, the git sources, the image pulls in
// progress), GET /healthz, the git webhook (POST /hooks/git) and the
// approval of held removals (POST /removals/approve).
//
// statusapi imports reconcile, reconcile/source (git status and the
// webhook) and driver (the PullReporter capability and its types); it never
// imports a driver implementation, and reconcile never imports it (only
// cmd/reconciler wires it in).
package statusapi
