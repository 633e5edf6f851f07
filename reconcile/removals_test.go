package reconcile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestParseRemovalLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    RemovalLimit
		wantErr string
	}{
		{in: "5", want: MaxRemovalCount(5)},
		{in: "0", want: MaxRemovalCount(0)},
		{in: "50%", want: MaxRemovalPercent(50)},
		{in: " 10% ", want: MaxRemovalPercent(10)},
		{in: "100%", want: MaxRemovalPercent(100)},
		{in: "101%", wantErr: "at most 100%"},
		{in: "-1", wantErr: "a count (5) or a percentage (50%)"},
		{in: "half", wantErr: "a count (5) or a percentage (50%)"},
		{in: "5 %", wantErr: "a count (5) or a percentage (50%)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRemovalLimit(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
			if again, _ := ParseRemovalLimit(got.String()); again != got {
				t.Errorf("String() %q does not read back", got.String())
			}
		})
	}
}

func TestRemovalLimitExceeded(t *testing.T) {
	tests := []struct {
		name       string
		limit      RemovalLimit
		n, owned   int
		want       bool
		wantString string
	}{
		{name: "default: exactly half goes", limit: RemovalLimit{}, n: 25, owned: 50, want: false, wantString: "50%"},
		{name: "default: more than half is held", limit: RemovalLimit{}, n: 26, owned: 50, want: true},
		{name: "default: the last of one is held", limit: RemovalLimit{}, n: 1, owned: 1, want: true},
		{name: "percent rounds down", limit: MaxRemovalPercent(10), n: 2, owned: 15, want: true, wantString: "10%"},
		{name: "count", limit: MaxRemovalCount(5), n: 5, owned: 6, want: false, wantString: "5"},
		{name: "count exceeded", limit: MaxRemovalCount(5), n: 6, owned: 1000, want: true},
		{name: "count 0 holds every removal", limit: MaxRemovalCount(0), n: 1, owned: 1000, want: true},
		{name: "100% never holds", limit: MaxRemovalPercent(100), n: 3, owned: 3, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.limit.Exceeded(tt.n, tt.owned); got != tt.want {
				t.Errorf("Exceeded(%d, %d) = %v, want %v", tt.n, tt.owned, got, tt.want)
			}
			if tt.wantString != "" && tt.limit.String() != tt.wantString {
				t.Errorf("String() = %q, want %q", tt.limit.String(), tt.wantString)
			}
		})
	}
}

// at is a time t after an arbitrary origin: the tests' clock.
func at(t time.Duration) time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(t) }

func TestRemovalLedgerWindow(t *testing.T) {
	ledger := RemovalLedger{
		Owned: []OwnedCount{{At: at(0), Count: 50}, {At: at(2 * time.Minute), Count: 48}, {At: at(5 * time.Minute), Count: 47}, {At: at(8 * time.Minute), Count: 49}},
		Removed: []RemovalRecord{
			{At: at(1 * time.Minute), Name: "a"}, {At: at(2 * time.Minute), Name: "b"}, {At: at(8 * time.Minute), Name: "c"},
		},
	}
	tests := []struct {
		name       string
		now        time.Duration
		length     time.Duration
		wantOwned  int
		wantRemove int
	}{
		{name: "the window holds everything so far", now: 8 * time.Minute, length: 10 * time.Minute, wantOwned: 50, wantRemove: 3},
		{name: "what was owned at the window's start counts", now: 11*time.Minute + 30*time.Second, length: 10 * time.Minute, wantOwned: 50, wantRemove: 2},
		{name: "what was owned before the window's start does not", now: 12 * time.Minute, length: 10 * time.Minute, wantOwned: 49, wantRemove: 1},
		{name: "the most owned at once within the window", now: 8*time.Minute + 30*time.Second, length: time.Minute, wantOwned: 49, wantRemove: 1},
		{name: "a removal at the window's start has left it", now: 8*time.Minute + 30*time.Second, length: 30 * time.Second, wantOwned: 49, wantRemove: 0},
		{name: "long after: the last count is in force", now: 30 * time.Minute, length: 10 * time.Minute, wantOwned: 49, wantRemove: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ledger.Window(at(tt.now), tt.length)
			if w.Owned != tt.wantOwned || w.Removed != tt.wantRemove || w.Length != tt.length {
				t.Errorf("Window = %+v, want owned %d, removed %d", w, tt.wantOwned, tt.wantRemove)
			}
		})
	}
	if w := (&RemovalLedger{}).Window(at(0), time.Minute); w.Owned != 0 || w.Removed != 0 {
		t.Errorf("empty ledger: %+v, want nothing", w)
	}
}

func TestRemovalLedgerRecordPrunesAndSurvivesASave(t *testing.T) {
	var l RemovalLedger
	window := 10 * time.Minute
	plan := func(owned int, done ...string) Plan {
		p := Plan{owned: owned}
		for _, n := range done {
			p.Actions = append(p.Actions, Action{Kind: ActionRemove, Name: n, Status: StatusDone, undeclared: true})
		}
		return p
	}
	first := plan(10, "a")
	// Neither a duplicate nor a held removal is a removal the limit counts;
	// the duplicate leaves fewer containers owned.
	first.Actions = append(first.Actions, Action{Kind: ActionRemove, Name: "dup", Status: StatusDone},
		Action{Kind: ActionRemove, Name: "held", Status: StatusHeld, undeclared: true})
	if !l.Record(at(0), window, first) {
		t.Error("the first pass did not change the ledger")
	}
	if got := l.Window(at(0), window); got.Owned != 10 || got.Removed != 1 || l.Owned[len(l.Owned)-1].Count != 8 {
		t.Errorf("after the first pass: %+v", l)
	}
	if l.Record(at(time.Minute), window, plan(8)) {
		t.Error("a pass that saw the same and removed nothing changed the ledger")
	}
	l.Record(at(2*time.Minute), window, plan(8, "b"))
	if !l.Record(at(20*time.Minute), window, plan(7)) {
		t.Error("a pass that dropped old entries did not change the ledger")
	}
	// At 20m only the count in force at 10m is kept.
	if len(l.Owned) != 1 || l.Owned[0].Count != 7 || len(l.Removed) != 0 {
		t.Errorf("after pruning: %+v", l)
	}
	path := filepath.Join(t.TempDir(), "removals.json")
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRemovalLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Window(at(21*time.Minute), window), l.Window(at(21*time.Minute), window); got.Owned != want.Owned || got.Removed != want.Removed {
		t.Errorf("read back %+v, want %+v", back, l)
	}
	if l, err := LoadRemovalLedger(filepath.Join(t.TempDir(), "none.json")); err != nil || len(l.Owned)+len(l.Removed) != 0 {
		t.Errorf("missing ledger: %+v, %v; want an empty one", l, err)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRemovalLedger(path); err == nil || !strings.Contains(err.Error(), "delete it to start a new removal window") {
		t.Errorf("corrupt ledger: %v, want an error that says what to do", err)
	}
}

// fleet is n declared containers app-00, app-01, … and their running
// systems.
func fleet(n int) ([]spec.Container, []driver.System) {
	cs := make([]spec.Container, n)
	live := make([]driver.System, n)
	for i := range cs {
		cs[i] = ctr(fmt.Sprintf("app-%02d", i), img2022, spec.IsolationProcess)
		live[i] = running(cs[i], spec.IsolationProcess)
	}
	return cs, live
}

// removalRun is a run of passes over a fleet whose manifests are deleted,
// with a ledger and a clock the test moves: each pass plans, carries out
// what is not held, and records.
type removalRun struct {
	declared []spec.Container
	live     []driver.System
	ledger   RemovalLedger
	policy   Policy
	approved []string
	window   time.Duration
	now      time.Time
}

func (r *removalRun) pass() Plan {
	p := r.policy
	p.Owner = "reconciler"
	p.Removals = r.ledger.Window(r.now, r.window)
	p.Removals.Approved = r.approved
	plan := ComputePlan(spec.Set{Containers: r.declared}, r.live, server2022, p)
	for i, a := range plan.Actions {
		if a.Kind == ActionRemove && a.Status == StatusPlanned {
			plan.Actions[i].Status = StatusDone
			r.live = slices.DeleteFunc(r.live, func(s driver.System) bool { return s.Name == a.Name })
		}
	}
	r.ledger.Record(r.now, r.window, plan)
	return plan
}

func TestRemovalGuardOverPasses(t *testing.T) {
	tests := []struct {
		name string
		n    int
		// pace is the time between two deletions, each seen by a pass;
		// atOnce deletes them all before one pass.
		pace        time.Duration
		atOnce      bool
		limit       RemovalLimit
		wantRemoved int
	}{
		{name: "rm * removes nothing", n: 50, atOnce: true, wantRemoved: 0},
		{name: "one by one as fast as passes go: half", n: 50, pace: 0, wantRemoved: 25},
		{name: "one by one every second: half", n: 50, pace: time.Second, wantRemoved: 25},
		{name: "one by one every 12s, all within the window: half", n: 50, pace: 12 * time.Second, wantRemoved: 25},
		{name: "an odd fleet: exactly half rounds down", n: 11, pace: time.Second, wantRemoved: 5},
		{name: "a count limit", n: 50, pace: time.Second, limit: MaxRemovalCount(5), wantRemoved: 5},
		{name: "a percentage limit", n: 50, pace: time.Second, limit: MaxRemovalPercent(10), wantRemoved: 5},
		{name: "a limit of 0 holds the first", n: 50, pace: time.Second, limit: MaxRemovalCount(0), wantRemoved: 0},
		{name: "one removal per window goes, but never the last one", n: 10, pace: 11 * time.Minute, wantRemoved: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			declared, live := fleet(tt.n)
			r := &removalRun{declared: declared, live: live, policy: Policy{MaxRemovals: tt.limit}, window: 10 * time.Minute, now: at(0)}
			r.pass()
			for range tt.n {
				r.declared = r.declared[1:]
				if !tt.atOnce {
					r.now = r.now.Add(tt.pace)
					r.pass()
				}
			}
			// Resyncs for three more windows change nothing: a held removal
			// stays held until approved.
			var last Plan
			for end := r.now.Add(30 * time.Minute); !r.now.After(end); r.now = r.now.Add(30 * time.Second) {
				last = r.pass()
			}
			if got := tt.n - len(r.live); got != tt.wantRemoved {
				t.Errorf("removed %d of %d, want %d", got, tt.n, tt.wantRemoved)
			}
			if c := last.Counts(); c.Held != tt.n-tt.wantRemoved || c.Remove != 0 {
				t.Errorf("last pass: %d held, %d removed; want %d held", c.Held, c.Remove, tt.n-tt.wantRemoved)
			}
			for _, a := range last.Actions {
				if a.Status == StatusHeld && (!a.approvable || !strings.Contains(a.HoldReason, "within 10m0s")) {
					t.Errorf("%s: hold %q (approvable %v), want an approvable hold that names the window", a, a.HoldReason, a.approvable)
				}
			}
		})
	}
}

func TestRemovalGuardApprovalIsForThoseNamesOnce(t *testing.T) {
	declared, live := fleet(10)
	r := &removalRun{declared: declared, live: live, window: 10 * time.Minute, now: at(0)}
	r.pass()
	r.declared = r.declared[6:] // app-00..app-05 deleted at once: 6 of 10
	if plan := r.pass(); plan.Counts().Held != 6 {
		t.Fatalf("%q, want 6 held", summary(plan))
	}
	// The operator approves four of them; meanwhile app-06 is deleted too.
	r.approved = []string{"app-00", "app-01", "app-02", "app-03"}
	r.declared = r.declared[1:]
	r.now = r.now.Add(time.Second)
	plan := r.pass()
	if got, want := summary(plan), []string{"remove app-00", "remove app-01", "remove app-02", "remove app-03", "held remove app-04", "held remove app-05", "held remove app-06",
		"unchanged app-07", "unchanged app-08", "unchanged app-09"}; !slices.Equal(got, want) {
		t.Errorf("with an approval: %q, want %q", got, want)
	}
	if !strings.Contains(plan.Actions[0].Reason, "removal approved") {
		t.Errorf("approved removal's reason %q does not say so", plan.Actions[0].Reason)
	}
	// The approval opened a new window: 6 owned, 3 pending is exactly half.
	r.approved = nil
	r.now = r.now.Add(time.Second)
	if got, want := summary(r.pass()), []string{"remove app-04", "remove app-05", "remove app-06", "unchanged app-07", "unchanged app-08", "unchanged app-09"}; !slices.Equal(got, want) {
		t.Errorf("after the approval: %q, want %q", got, want)
	}
	// And that window counts: the next deletion is held again.
	r.declared = r.declared[1:]
	r.now = r.now.Add(time.Second)
	if plan := r.pass(); plan.Counts().Held != 1 {
		t.Errorf("%q after the approved window was spent, want 1 held", summary(plan))
	}
}

func TestComputePlanRemovalWindow(t *testing.T) {
	web := ctr("web", img2022, spec.IsolationProcess)
	observed := func(names ...string) []driver.System {
		var out []driver.System
		for _, n := range names {
			out = append(out, running(ctr(n, img2022, spec.IsolationProcess), spec.IsolationProcess))
		}
		return out
	}
	tests := []struct {
		name     string
		desired  spec.Set
		observed []driver.System
		policy   Policy
		want     []string
		wantHold string
	}{
		{
			name:     "the window's earlier removals count",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: observed("web", "old", "db"),
			policy:   Policy{Removals: RemovalWindow{Length: 10 * time.Minute, Owned: 4, Removed: 1}},
			want:     []string{"held remove db", "held remove old", "unchanged web"},
			wantHold: "removing 2 more would make 3 removal(s) within 10m0s, beyond --max-removals 50% of the 4 containers owned",
		},
		{
			name:     "what was owned at the window's start counts",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: observed("web", "old", "db"),
			policy:   Policy{Removals: RemovalWindow{Length: 10 * time.Minute, Owned: 6, Removed: 1}},
			want:     []string{"remove db", "remove old", "unchanged web"},
		},
		{
			name:     "approved names go, and count against the others",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: observed("web", "old", "db", "api", "cache"),
			policy:   Policy{Removals: RemovalWindow{Length: time.Minute, Owned: 5, Removed: 1, Approved: []string{"old", "db"}}},
			want:     []string{"held remove api", "held remove cache", "remove db", "remove old", "unchanged web"},
			wantHold: "removing 4 more would make 5 removal(s) within 1m0s",
		},
		{
			name:     "--allow-mass-removal lifts the limit",
			desired:  spec.Set{Containers: []spec.Container{web}},
			observed: observed("web", "old", "db"),
			policy:   Policy{AllowMassRemoval: true, Removals: RemovalWindow{Owned: 3, Removed: 3}},
			want:     []string{"remove db", "remove old", "unchanged web"},
		},
		{
			name:     "a partial view holds approved removals too, not approvable",
			desired:  spec.Set{Containers: []spec.Container{web}, HoldRemovals: true, HoldReason: "folder /m vanished"},
			observed: observed("web", "old"),
			policy:   Policy{Removals: RemovalWindow{Approved: []string{"old"}}},
			want:     []string{"held remove old", "unchanged web"},
			wantHold: "folder /m vanished",
		},
		{
			name:    "a duplicate goes even when the limit holds the rest",
			desired: spec.Set{Containers: []spec.Container{web}},
			observed: append(observed("web", "old"),
				running(web, spec.IsolationHyperV, func(s *driver.System) { s.ID = "web_v1-stale" })),
			policy:   Policy{MaxRemovals: MaxRemovalCount(0)},
			want:     []string{"held remove old", "remove web", "unchanged web"},
			wantHold: "--max-removals 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			p.Owner = "reconciler"
			plan := ComputePlan(tt.desired, tt.observed, server2022, p)
			if got := summary(plan); !slices.Equal(got, tt.want) {
				t.Errorf("plan = %q, want %q", got, tt.want)
			}
			for _, a := range plan.Actions {
				if a.Status != StatusHeld {
					continue
				}
				if !strings.Contains(a.HoldReason, tt.wantHold) {
					t.Errorf("%s hold %q, want it to contain %q", a, a.HoldReason, tt.wantHold)
				}
				if approvable := tt.desired.HoldReason == ""; a.approvable != approvable {
					t.Errorf("%s approvable = %v, want %v", a, a.approvable, approvable)
				}
			}
		})
	}
}
