package notify

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/reconciler/reconciler/reconcile"
)

// DefaultSourceFailingAfter is how many passes in a row a source (or the
// host) must fail to read before it is reported as failing: one
// unreachable fetch is not news.
const DefaultSourceFailingAfter = 3

// hostSource names the host among the sources that fail to be read.
const hostSource = "the host"

// Watcher turns the agent's pass reports into events, one per change of
// state: a failure, a hold or a rollback is reported when it first
// appears (or grows), not again on each resync while it lasts, and the
// recovery once, when every failure reported is gone. Observe is the
// agent's OnReport; it calls Send, which must not block (Notifier.Send).
// Not safe for concurrent use: the agent calls it from its loop.
type Watcher struct {
	Host, Owner string
	Send        func(Event)
	// SourceFailingAfter is DefaultSourceFailingAfter if 0.
	SourceFailingAfter int

	// failing are the containers reported failing, with the reason given.
	failing map[string]bool
	// held and rolledBack are the names of the last hold and rollback
	// reported, while they last.
	held, rolledBack []string
	// sourceErrs counts each source's failed reads in a row; sourceDown
	// are those reported failing.
	sourceErrs map[string]int
	sourceDown map[string]bool
}

// Observe reads one pass report and sends what changed.
func (w *Watcher) Observe(r reconcile.PassReport) {
	if w.failing == nil {
		w.failing, w.sourceErrs, w.sourceDown = map[string]bool{}, map[string]int{}, map[string]bool{}
	}
	at := r.Started.Add(r.Duration)
	back := w.observeSources(r, at)
	var recovered []string
	if r.Err == nil { // else nothing was planned: the rest is as it was
		recovered = w.observePlan(r, at)
	}
	if len(back)+len(recovered) == 0 || len(w.failing) > 0 || len(w.sourceDown) > 0 {
		return
	}
	if len(recovered) > 0 {
		back = append(back, "the containers that failed run as declared")
	}
	w.send(Recovered, at, recovered, back)
}

// observePlan sends the failures, rollbacks and holds of the plan that
// are news, and returns the containers reported failing that no longer
// are.
func (w *Watcher) observePlan(r reconcile.PassReport, at time.Time) (recovered []string) {
	var failed, rolled, held []string
	var failedWhy, rolledWhy []string
	var heldWhy string
	for _, a := range r.Plan.Actions {
		switch {
		case a.Status == reconcile.StatusHeld:
			held = append(held, a.Name)
			heldWhy = a.HoldReason
		case errors.Is(a.Err, reconcile.ErrRolledBack): // reported as a rollback, not a failure
			rolled = append(rolled, a.Name)
			rolledWhy = append(rolledWhy, actionWhy(a))
		case a.Status == reconcile.StatusFailed:
			failed = append(failed, a.Name)
			failedWhy = append(failedWhy, actionWhy(a))
		}
	}
	still := map[string]bool{}
	for _, n := range append(slices.Clone(failed), r.Deferred...) {
		still[n] = true
	}
	var fresh, freshWhy []string
	for i, n := range failed {
		if !w.failing[n] {
			fresh, freshWhy = append(fresh, n), append(freshWhy, failedWhy[i])
		}
	}
	recovered = slices.Sorted(maps.Keys(w.failing))
	recovered = slices.DeleteFunc(recovered, func(n string) bool { return still[n] })
	for n := range w.failing {
		if !still[n] {
			delete(w.failing, n)
		}
	}
	for _, n := range fresh {
		w.failing[n] = true
	}
	if len(fresh) > 0 {
		w.send(Failed, at, fresh, freshWhy)
	}
	if len(rolled) > 0 && !slices.Equal(rolled, w.rolledBack) {
		w.send(Rollback, at, rolled, rolledWhy)
	}
	w.rolledBack = rolled
	if len(held) > 0 && !slices.Equal(held, w.held) {
		w.send(Held, at, held, []string{heldWhy})
	}
	w.held = held
	return recovered
}

// observeSources counts the sources' (and the host's) failed reads in a
// row, reports those that reach SourceFailingAfter, and returns what
// those reported read again.
func (w *Watcher) observeSources(r reconcile.PassReport, at time.Time) (back []string) {
	errs := map[string]error{}
	for _, s := range r.Sources {
		if s.Err != nil {
			errs["source "+s.Name] = s.Err
		}
	}
	if r.Err != nil {
		errs[hostSource] = r.Err
	}
	after := w.SourceFailingAfter
	if after <= 0 {
		after = DefaultSourceFailingAfter
	}
	var down []string
	for name, err := range errs {
		w.sourceErrs[name]++
		if w.sourceErrs[name] == after {
			w.sourceDown[name] = true
			down = append(down, fmt.Sprintf("%s could not be read %d passes in a row: %v", name, after, err))
		}
	}
	for name := range w.sourceErrs {
		if _, failing := errs[name]; failing {
			continue
		}
		delete(w.sourceErrs, name)
		if w.sourceDown[name] {
			delete(w.sourceDown, name)
			back = append(back, name+" is read again")
		}
	}
	if len(down) > 0 {
		slices.Sort(down)
		w.send(SourceFailing, at, nil, down)
	}
	slices.Sort(back)
	return back
}

func (w *Watcher) send(k Kind, at time.Time, containers, reasons []string) {
	if w.Send == nil {
		return
	}
	w.Send(Event{Event: k, Host: w.Host, Owner: w.Owner, Containers: containers, Reasons: reasons, Time: at.UTC()})
}

// actionWhy is one line on an action for a message: "web: recreate
// (image a → b): not found".
func actionWhy(a reconcile.Action) string {
	s := fmt.Sprintf("%s: %s (%s)", a.Name, a.Kind, a.Reason)
	if a.Err != nil {
		s += ": " + a.Err.Error()
	}
	return s
}
