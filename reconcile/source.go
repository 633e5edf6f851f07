package reconcile

import (
	"context"

	"github.com/reconciler/reconciler/spec"
)

// Source is one place that declares containers. It is declared here, where
// the Agent uses it, so that reconcile does not import the implementations
// (reconcile/source, with go-git): cmd/reconciler wires them in, and they
// satisfy Source structurally.
type Source interface {
	// String names the source in logs: "dir /etc/manifests",
	// "git https://host/repo@main:path".
	String() string

	// Run watches the source until ctx is done and calls notify (which
	// must not block for long) whenever the desired set may have changed,
	// including once when it is first ready. It returns nil when ctx is
	// done and an error only when it can never work (bad configuration);
	// passing failures (an unreachable remote, a vanished folder) are
	// logged and retried, never returned.
	Run(ctx context.Context, notify func()) error

	// Snapshot returns the source's full desired set as of now. It is
	// cheap to call repeatedly: unchanged inputs are not parsed again.
	Snapshot(ctx context.Context) (spec.Set, error)
}
