// Package notify tells people what the agent cannot fix alone: a pass
// whose actions failed, a held removal, a rollback, a source that keeps
// failing, and the recovery from those. Watcher turns the agent's pass
// reports into events, one per change of state (never one per resync);
// Notifier delivers them to webhook, Microsoft Teams and Slack targets,
// asynchronously (a pass never waits for a delivery), rate-limited,
// retried with backoff, dropping the oldest message when a target's queue
// is full.
//
// A message names containers, reasons and the host, never an
// environment value nor a credential (a URL's user info in a reason is
// cut); a target's URL, which carries its secret, is logged as scheme and
// host only.
//
// notify imports reconcile (the pass report it reads); nothing of the
// project but cmd/reconciler imports it.
package notify
