package reconcile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultRemovalWindow is how far back removals count against the
// removal limit unless told otherwise.
const DefaultRemovalWindow = 10 * time.Minute

// RemovalLimit is how many containers may be removed within one removal
// window: a count, or a percentage of the containers owned at the
// window's start. A removal that would go beyond it is held. The zero
// value is the default: more than half is held.
type RemovalLimit struct {
	n       int
	percent bool
	set     bool
}

// MaxRemovalCount is a limit of n removals per window (0: every removal
// is held until approved).
func MaxRemovalCount(n int) RemovalLimit { return RemovalLimit{n: n, set: true} }

// MaxRemovalPercent is a limit of p percent of the owned containers per
// window.
func MaxRemovalPercent(p int) RemovalLimit { return RemovalLimit{n: p, percent: true, set: true} }

// ParseRemovalLimit reads a limit as an operator writes it: "5" (a count)
// or "50%" (a percentage of the owned containers).
func ParseRemovalLimit(s string) (RemovalLimit, error) {
	num, percent := strings.CutSuffix(strings.TrimSpace(s), "%")
	n, err := strconv.Atoi(num)
	switch {
	case err != nil || n < 0:
		return RemovalLimit{}, fmt.Errorf("%q: want a count (5) or a percentage (50%%)", s)
	case percent && n > 100:
		return RemovalLimit{}, fmt.Errorf("%q: a percentage is at most 100%%", s)
	case percent:
		return MaxRemovalPercent(n), nil
	}
	return MaxRemovalCount(n), nil
}

func (l RemovalLimit) orDefault() RemovalLimit {
	if !l.set {
		return MaxRemovalPercent(50)
	}
	return l
}

// String renders the limit as ParseRemovalLimit reads it.
func (l RemovalLimit) String() string {
	l = l.orDefault()
	if l.percent {
		return strconv.Itoa(l.n) + "%"
	}
	return strconv.Itoa(l.n)
}

// Exceeded reports whether removing n containers within one window goes
// beyond the limit, owned being what was owned at the window's start.
func (l RemovalLimit) Exceeded(n, owned int) bool {
	l = l.orDefault()
	if l.percent {
		return n*100 > l.n*owned
	}
	return n > l.n
}

// RemovalWindow is what the planner knows of the removals before this
// pass: the window's history, as a RemovalLedger kept it, and the
// operator's approvals. The zero value is a window that holds only this
// pass.
type RemovalWindow struct {
	// Length is how far back the window reaches (for the hold's reason).
	Length time.Duration
	// Owned is the most containers this owner had at once within the
	// window, its start included; the planner takes the larger of it and
	// what is owned now.
	Owned int
	// Removed is how many undeclared containers were removed within the
	// window.
	Removed int
	// Approved names the held removals the operator approved: they are
	// carried out whatever the limit says.
	Approved []string
}

// RemovalLedger is the removal guard's memory across passes: how many
// containers were owned and which were removed, with when. The Agent and
// the one-shot reconcile keep one (in a file, so that a restart does not
// open a new window); RemovalLedger.Window gives the planner its view of
// it. Times come from the caller: the ledger never reads a clock.
type RemovalLedger struct {
	// Owned holds how many containers passes saw owned, one entry per
	// change, oldest first.
	Owned []OwnedCount `json:"owned"`
	// Removed holds the undeclared containers removed, oldest first.
	Removed []RemovalRecord `json:"removed"`
}

// OwnedCount is how many containers a pass saw owned, and when.
type OwnedCount struct {
	At    time.Time `json:"at"`
	Count int       `json:"count"`
}

// RemovalRecord is one removal done, and when.
type RemovalRecord struct {
	At   time.Time `json:"at"`
	Name string    `json:"name"`
}

// Window is the ledger seen from now for a window of the given length:
// the most containers owned at once since the window's start (what was
// owned at that start included) and the removals done since.
func (l *RemovalLedger) Window(now time.Time, length time.Duration) RemovalWindow {
	start := now.Add(-length)
	w := RemovalWindow{Length: length}
	for i, o := range l.Owned {
		// An entry before the start counts when it was still in force at
		// the start, that is when the next one came after it.
		if o.At.After(start) || i == len(l.Owned)-1 || l.Owned[i+1].At.After(start) {
			w.Owned = max(w.Owned, o.Count)
		}
	}
	for _, r := range l.Removed {
		if r.At.After(start) {
			w.Removed++
		}
	}
	return w
}

// Record adds what a pass saw and did at time at: how many containers it
// found owned and how many that left, and the undeclared containers it
// removed. A pass that carried out an approved removal opens a new
// window: what came before is forgotten. It drops what has left the
// window, and reports whether the ledger changed.
func (l *RemovalLedger) Record(at time.Time, length time.Duration, plan Plan) bool {
	before := len(l.Owned) + len(l.Removed)
	changed := false
	after, approved := plan.owned, false
	for _, a := range plan.Actions {
		if a.Status != StatusDone {
			continue
		}
		switch {
		case a.Kind == ActionCreate:
			after++
		case a.Kind == ActionRemove:
			after--
		}
		switch {
		case !a.undeclared:
		case a.approved:
			approved = true
		default:
			l.Removed = append(l.Removed, RemovalRecord{At: at, Name: a.Name})
			changed = true
		}
	}
	if approved {
		l.Owned, l.Removed = []OwnedCount{{At: at, Count: after}}, nil
		return true
	}
	for _, n := range []int{plan.owned, after} {
		if len(l.Owned) == 0 || l.Owned[len(l.Owned)-1].Count != n {
			l.Owned = append(l.Owned, OwnedCount{At: at, Count: n})
			changed = true
		}
	}
	l.prune(at.Add(-length))
	return changed || len(l.Owned)+len(l.Removed) != before
}

// prune drops what no window from now on can see: removals before start,
// and owned counts before the last one in force at start.
func (l *RemovalLedger) prune(start time.Time) {
	l.Removed = slices.DeleteFunc(l.Removed, func(r RemovalRecord) bool { return !r.At.After(start) })
	keep := 0
	for i := range l.Owned {
		if !l.Owned[i].At.After(start) {
			keep = i
		}
	}
	l.Owned = slices.Delete(l.Owned, 0, keep)
}

// LoadRemovalLedger reads the ledger kept in path; a missing file is an
// empty ledger.
func LoadRemovalLedger(path string) (RemovalLedger, error) {
	var l RemovalLedger
	err := loadJSONFile(path, "removal ledger", "it only holds the last removals: delete it to start a new removal window", &l)
	return l, err
}

// Save writes the ledger to path atomically.
func (l *RemovalLedger) Save(path string) error { return saveJSONFile(path, "removal ledger", l) }
