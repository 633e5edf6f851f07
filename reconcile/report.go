package reconcile

import (
	"slices"
	"time"

	"github.com/reconciler/reconciler/driver"
)

// PassReport is what one pass of the agent did, for Agent.OnReport: the
// metrics, the readiness and the notifications of the local API read it.
type PassReport struct {
	// Pass is the pass's number, from 1.
	Pass uint64
	// Causes are why it ran ("start", "resync", "dir …", "exit of …").
	Causes []string
	// Started is when it started; Duration how long it took.
	Started  time.Time
	Duration time.Duration
	// Err is why the host could not be read; the pass planned nothing
	// then and Plan is the zero Plan.
	Err error
	// Plan is the pass's plan, with each action's outcome.
	Plan Plan
	// Sources are the sources read, in the agent's order.
	Sources []SourceReport
	// Deferred names the containers whose failed recreate waits before it
	// is tried again (see RetryBackoff): still failing, though the plan
	// has no failed action for them.
	Deferred []string
	// Suspended says the pass only planned because the agent is
	// suspended (Agent.Suspended); DryRun is the agent's --dry-run.
	Suspended, DryRun bool
}

// SourceReport is one source as a pass read it.
type SourceReport struct {
	// Name is the source's String().
	Name string
	// Revision is the revision of its snapshot ("" for a folder).
	Revision string
	// Err is why it could not be read; nil when it was.
	Err error
}

// Drift kinds: what changed behind the agent's back about a container the
// previous pass had left as declared.
const (
	// DriftVanished: its compute system is gone (the pass creates it).
	DriftVanished = "vanished"
	// DriftStopped: its compute system stopped or exited, with its spec
	// unchanged (the pass recreates it under its restartPolicy).
	DriftStopped = "stopped"
	// DriftDuplicate: a second system of its name and owner appeared (the
	// pass removes the duplicate).
	DriftDuplicate = "duplicate"
)

// Drifted is one container found changed behind the agent's back.
type Drifted struct {
	Name string
	// Kind is DriftVanished, DriftStopped or DriftDuplicate.
	Kind string
}

// Names is a set of container names, sorted.
type Names []string

// Has reports whether name is in n.
func (n Names) Has(name string) bool {
	_, ok := slices.BinarySearch(n, name)
	return ok
}

// Converged returns the names the plan left as declared: unchanged, or
// created or recreated with success. A dry run converges only what was
// unchanged. When the plan converged nothing beyond its unchanged
// containers (most passes), it is p.Unchanged itself, not a copy: a
// caller keeping it between passes (as drift needs) costs 16 bytes a
// container, not a map. It must not be modified.
func (p *Plan) Converged() Names {
	done := 0
	for _, a := range p.Actions {
		if a.Kind != ActionRemove && a.Status == StatusDone {
			done++
		}
	}
	if done == 0 && slices.IsSorted(p.Unchanged) {
		return Names(slices.Clip(p.Unchanged))
	}
	out := make(Names, 0, len(p.Unchanged)+done)
	out = append(out, p.Unchanged...)
	for _, a := range p.Actions {
		if a.Kind != ActionRemove && a.Status == StatusDone {
			out = append(out, a.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Drift lists the containers the plan finds changed behind the agent's
// back, given the names the previous pass left as declared (its
// Converged): a container of those that this plan must create (its
// system vanished), recreate with its spec and isolation unchanged (its
// system stopped or exited), or whose duplicate it removes. A change of
// the manifest is not drift, and neither is anything about a container
// the previous pass did not leave as declared, so each occurrence counts
// once, also while a suspended agent only plans.
func (p *Plan) Drift(converged Names) []Drifted {
	var out []Drifted
	for _, a := range p.Actions {
		if !converged.Has(a.Name) {
			continue
		}
		switch {
		case a.Kind == ActionCreate:
			out = append(out, Drifted{a.Name, DriftVanished})
		case a.Kind == ActionRecreate && sameSpecStopped(a):
			out = append(out, Drifted{a.Name, DriftStopped})
		case a.Kind == ActionRemove && !a.undeclared:
			out = append(out, Drifted{a.Name, DriftDuplicate})
		}
	}
	return out
}

// sameSpecStopped reports whether a recreate replaces a system that has
// the desired spec and isolation but does not run.
func sameSpecStopped(a Action) bool {
	if a.request == nil || len(a.remove) != 1 {
		return false
	}
	s := a.remove[0]
	return s.State != driver.StateRunning && s.SpecHash == a.request.SpecHash && s.Isolation == a.request.Isolation
}
