package winsvc

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

// Level is an event's type in the Event Log.
type Level int

// The levels of events.
const (
	Info Level = iota
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Warning:
		return "Warning"
	case Error:
		return "Error"
	}
	return "Information"
}

// The event ids, fixed: scripts and monitoring (Get-WinEvent -FilterHashtable
// @{ProviderName='reconciler'; Id=100}) rely on them. They stay within
// 1–1000, the ids EventCreate.exe's message file (the source is
// registered with it) gives a message to.
const (
	EventStarted          uint32 = 1
	EventStopped          uint32 = 2
	EventStoppedWithError uint32 = 3
	EventActionsFailed    uint32 = 100
	EventActionsRecovered uint32 = 101
	EventRemovalsHeld     uint32 = 110
	EventRemovalsReleased uint32 = 111
	EventRollback         uint32 = 120
	EventSourceFailing    uint32 = 130
	EventSourceRecovered  uint32 = 131
	EventHostUnreadable   uint32 = 140
	EventHostRecovered    uint32 = 141
)

// Kind is one kind of event: its id, level and meaning.
type Kind struct {
	ID    uint32
	Level Level
	// When says when it is written, for the README's table.
	When string
}

// Catalog is every event the service writes, in id order: the README's
// "Windows events" table is this (TestReadmeListsEveryEvent).
var Catalog = []Kind{
	{EventStarted, Info, "the agent started (owner, driver, sources)"},
	{EventStopped, Info, "the agent stopped: a service stop or a system shutdown"},
	{EventStoppedWithError, Error, "the agent stopped with an error (a config file that does not load, a source that can never work); the SCM restarts it"},
	{EventActionsFailed, Error, "a pass had failed actions, naming each and its error; written again only when another container starts failing"},
	{EventActionsRecovered, Info, "every container that was failing has been converged since (or is no longer declared)"},
	{EventRemovalsHeld, Warning, "removals are held (too many at once, or a source that cannot be read in full), naming them and how to release them"},
	{EventRemovalsReleased, Info, "no removal is held any more"},
	{EventRollback, Warning, "a recreate failed and the previous spec was restored (rolled back)"},
	{EventSourceFailing, Warning, "a source cannot be read: a git remote that fails, a folder that vanished or holds unreadable files; the last good content stays in force"},
	{EventSourceRecovered, Info, "that source can be read again"},
	{EventHostUnreadable, Error, "the container host (HCS) could not be read: passes fail until it can"},
	{EventHostRecovered, Info, "the container host can be read again"},
}

// Event is one entry of the Event Log.
type Event struct {
	ID      uint32
	Level   Level
	Message string
}

// kind returns the catalog entry of id.
func kind(id uint32) Kind {
	i := slices.IndexFunc(Catalog, func(k Kind) bool { return k.ID == id })
	return Catalog[i]
}

// newEvent makes the event id with its catalog level.
func newEvent(id uint32, format string, args ...any) Event {
	return Event{ID: id, Level: kind(id).Level, Message: truncate(fmt.Sprintf(format, args...))}
}

// maxMessage bounds an event's text (the Event Log takes about 31k
// characters); a longer one is cut, saying so.
const maxMessage = 8000

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "\n… (cut; the log file has it all)"
}

// RolledBack reports whether a failed action restored the previous spec.
//
// Merge seam: it reads today's executor's words ("restored the previous
// spec", reconcile/executor.go's restore); when safe updates give the plan
// a typed mark of a rollback, test that here instead.
var RolledBack = func(a reconcile.Action) bool {
	return a.Status == reconcile.StatusFailed && a.Err != nil &&
		(strings.Contains(a.Err.Error(), "restored the previous spec") || strings.Contains(a.Err.Error(), "rolled back"))
}

// Tracker turns what the agent observes into events, one per change of
// state rather than one per pass: a container that keeps failing is
// reported when it starts failing and when it is well again, not at every
// resync. Its methods may be called from any goroutine; emit is called
// with Tracker's lock held, in order.
type Tracker struct {
	mu   sync.Mutex
	emit func(Event)
	// failing are the containers whose last action failed, by name.
	failing map[string]bool
	// held is the names of the removals held by the last pass, sorted.
	held string
	// sources are the sources failing now; host whether the host is.
	sources map[string]bool
	host    bool
}

// NewTracker returns a Tracker that hands its events to emit.
func NewTracker(emit func(Event)) *Tracker {
	return &Tracker{emit: emit, failing: map[string]bool{}, sources: map[string]bool{}}
}

// forgetConverged drops from the failing containers those the plan shows
// well: no action and unchanged (its spec runs) without a deferred
// retry, or not declared at all any more.
func (t *Tracker) forgetConverged(p reconcile.Plan) {
	for name := range t.failing {
		if slices.ContainsFunc(p.Actions, func(a reconcile.Action) bool { return a.Name == name }) {
			continue
		}
		deferred := slices.ContainsFunc(p.Warnings, func(w spec.Problem) bool {
			return w.Name == name && strings.Contains(w.Message, "deferred until")
		})
		if !deferred {
			delete(t.failing, name)
		}
	}
}

// Pass takes the plan of a pass (reconcile.Agent.OnPass): failed actions,
// held removals and rollbacks.
func (t *Tracker) Pass(p reconcile.Plan) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var failed, rolledBack, held []string
	var heldWhy []string
	wasFailing, newFailure := len(t.failing) > 0, false
	for _, a := range p.Actions {
		switch a.Status {
		case reconcile.StatusFailed:
			failed = append(failed, fmt.Sprintf("%s %s: %v", a.Kind, a.Name, a.Err))
			if !t.failing[a.Name] {
				newFailure = true
			}
			t.failing[a.Name] = true
			if RolledBack(a) {
				rolledBack = append(rolledBack, fmt.Sprintf("%s: %v", a.Name, a.Err))
			}
		case reconcile.StatusDone:
			delete(t.failing, a.Name)
		case reconcile.StatusHeld:
			held = append(held, a.Name)
			if !slices.Contains(heldWhy, a.HoldReason) {
				heldWhy = append(heldWhy, a.HoldReason)
			}
		}
	}
	t.forgetConverged(p)
	if newFailure {
		t.emit(newEvent(EventActionsFailed, "%d action(s) failed in the last pass; the agent retries them:\n%s", len(failed), strings.Join(failed, "\n")))
	} else if wasFailing && len(t.failing) == 0 {
		t.emit(newEvent(EventActionsRecovered, "every container that was failing has been converged since, or is no longer declared"))
	}
	if len(rolledBack) > 0 {
		t.emit(newEvent(EventRollback, "rolled back to the previous spec: %s", strings.Join(rolledBack, "\n")))
	}
	slices.Sort(held)
	switch key := strings.Join(held, ", "); {
	case key != "" && key != t.held:
		t.emit(newEvent(EventRemovalsHeld, "%d removal(s) held: %s\n%s", len(held), key, strings.Join(heldWhy, "\n")))
	case key == "" && t.held != "":
		t.emit(newEvent(EventRemovalsReleased, "no removal is held any more (held before: %s)", t.held))
	}
	t.held = strings.Join(held, ", ")
}
