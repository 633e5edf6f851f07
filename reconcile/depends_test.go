package reconcile

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/sim"
	"github.com/reconciler/reconciler/spec"
)

// journaled is an emulated host that runs health checks from a script per
// container name and keeps a journal of what it did, in order: "create
// db", "check db ok", "check db fail", "remove web".
type journaled struct {
	*sim.EmulatedHost
	mu      sync.Mutex
	journal []string
	// health answers the checks of each name in turn; past the end the
	// last answer repeats; a name without a script is healthy.
	health map[string][]error
	checks map[string]int
	// beforeCheck, if set, runs before each check (outside the lock).
	beforeCheck func(name string)
}

var _ driver.HealthChecker = (*journaled)(nil)

func newJournaled(t *testing.T) *journaled {
	return &journaled{EmulatedHost: newHost(t), health: map[string][]error{}, checks: map[string]int{}}
}

func (j *journaled) note(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.journal = append(j.journal, s)
}

func (j *journaled) entries() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.journal)
}

func (j *journaled) Create(ctx context.Context, req driver.CreateRequest) (driver.System, error) {
	s, err := j.EmulatedHost.Create(ctx, req)
	if err == nil {
		j.note("create " + req.Name)
	}
	return s, err
}

func (j *journaled) Remove(ctx context.Context, id string, grace time.Duration) error {
	name, _, _ := driver.ParseSystemID(id)
	err := j.EmulatedHost.Remove(ctx, id, grace)
	if err == nil {
		j.note("remove " + name)
	}
	return err
}

func (j *journaled) CheckHealth(ctx context.Context, id string, _ spec.Healthcheck) error {
	name, _, _ := driver.ParseSystemID(id)
	if j.beforeCheck != nil {
		j.beforeCheck(name)
	}
	j.mu.Lock()
	script := j.health[name]
	var err error
	if len(script) > 0 {
		err = script[min(j.checks[name], len(script)-1)]
	}
	j.checks[name]++
	j.mu.Unlock()
	j.note(fmt.Sprintf("check %s %s", name, map[bool]string{true: "ok", false: "fail"}[err == nil]))
	return err
}

// index is where entry first is in the journal, -1 if not.
func index(journal []string, entry string) int { return slices.Index(journal, entry) }

var fastCheck = spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}, Interval: "1ms", Timeout: "1s", StartPeriod: "0s", Retries: 2}

func withHealth(hc spec.Healthcheck) func(*spec.Container) {
	return func(c *spec.Container) { c.Spec.Healthcheck = hc }
}

func dependsOn(name string, cond spec.DependencyCondition) func(*spec.Container) {
	return func(c *spec.Container) {
		c.Spec.DependsOn = append(c.Spec.DependsOn, spec.Dependency{Name: name, Condition: cond})
	}
}

func applyPlan(t *testing.T, d driver.Driver, parallel int, cs ...spec.Container) Plan {
	t.Helper()
	plan := planFor(t, d, cs...)
	ex := &Executor{Driver: d, Parallel: parallel, NewBackOff: fastBackOff, Logger: zaptest.NewLogger(t)}
	ex.Apply(context.Background(), &plan)
	return plan
}

func actionOf(t *testing.T, p Plan, name string) Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no action for %s in %v", name, p.Actions)
	return Action{}
}

func TestDependsOnCreatesInOrder(t *testing.T) {
	unhealthy := fmt.Errorf("exit code 1: %w", driver.ErrUnhealthy)
	tests := []struct {
		name     string
		cond     spec.DependencyCondition
		dbHealth []error
		// wantWeb is web's status; wantErr what its error says (a
		// regular expression).
		wantWeb Status
		wantErr string
		// wantOrder are journal entries that must come in this order.
		wantOrder []string
	}{
		{name: "healthy: the app waits for a passing check", cond: spec.ConditionHealthy,
			dbHealth: []error{unhealthy, nil}, wantWeb: StatusDone,
			wantOrder: []string{"create db", "check db fail", "check db ok", "create web"}},
		{name: "started: the app waits for the create only", cond: spec.ConditionStarted,
			dbHealth: []error{unhealthy}, wantWeb: StatusDone,
			wantOrder: []string{"create db", "create web"}},
		{name: "unhealthy: the app is not created, and the plan says why", cond: spec.ConditionHealthy,
			dbHealth: []error{unhealthy}, wantWeb: StatusFailed, wantErr: "^waits for db: .*not healthy: 2 checks failed in a row",
			wantOrder: []string{"create db", "check db fail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newJournaled(t)
			d.health["db"] = tt.dbHealth
			// web sorts after db, app before: both orders are waited for.
			plan := applyPlan(t, d, 4,
				ctr("app", img2022, spec.IsolationProcess, dependsOn("db", tt.cond)),
				ctr("db", img2022, spec.IsolationProcess, withHealth(fastCheck)),
				ctr("web", img2022, spec.IsolationProcess, dependsOn("db", tt.cond)))
			journal := d.entries()
			// db runs, healthy or not (a health-gated create fails when it
			// is not, and leaves it running).
			live, _ := d.List(context.Background())
			if !slices.ContainsFunc(live, func(s driver.System) bool { return s.Name == "db" && s.State == driver.StateRunning }) {
				t.Fatalf("db does not run: %v (plan %v)", live, actionOf(t, plan, "db").Err)
			}
			for _, name := range []string{"app", "web"} {
				a := actionOf(t, plan, name)
				if a.Status != tt.wantWeb {
					t.Errorf("%s: %s (%v), want %s", name, a.Status, a.Err, tt.wantWeb)
				}
				if tt.wantErr != "" && (a.Err == nil || !regexp.MustCompile(tt.wantErr).MatchString(a.Err.Error()) || !errors.Is(a.Err, ErrDependencyNotReady)) {
					t.Errorf("%s: error %v, want ErrDependencyNotReady saying %q", name, a.Err, tt.wantErr)
				}
				created := index(journal, "create "+name)
				if (created >= 0) != (tt.wantWeb == StatusDone) {
					t.Errorf("%s created: %t, want %t (journal %v)", name, created >= 0, tt.wantWeb == StatusDone, journal)
				}
			}
			last := -1
			for _, e := range tt.wantOrder {
				i := index(journal[last+1:], e)
				if i < 0 {
					t.Fatalf("journal %v: %q not after %d", journal, e, last)
				}
				last += 1 + i
			}
			if tt.wantWeb == StatusDone && index(journal, "create web") < last {
				t.Errorf("journal %v: web created before %q", journal, tt.wantOrder[len(tt.wantOrder)-1])
			}
		})
	}
}

func TestDependsOnRunningDependencyNeedsNoWait(t *testing.T) {
	d := newJournaled(t)
	db := ctr("db", img2022, spec.IsolationProcess, withHealth(fastCheck))
	applyPlan(t, d, 4, db)
	d.journal = nil
	plan := applyPlan(t, d, 4, db, ctr("web", img2022, spec.IsolationProcess, dependsOn("db", spec.ConditionHealthy)))
	if web := actionOf(t, plan, "web"); web.Status != StatusDone {
		t.Fatalf("web: %s %v", web.Status, web.Err)
	}
	if got, want := d.entries(), []string{"check db ok", "create web"}; !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v: one check of the running db, then web", got, want)
	}
}

func TestDependsOnDependencyNotRunning(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, d *journaled)
		wantErr string
	}{
		{name: "its create fails", setup: func(t *testing.T, d *journaled) {
			if err := d.SetFaults(context.Background(), sim.Faults{FailNames: []string{"db"}}); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "waits for db: its create failed"},
		{name: "it is stopped and its policy keeps it so", setup: func(t *testing.T, d *journaled) {
			applyPlan(t, d, 4, ctr("db", img2022, spec.IsolationProcess, func(c *spec.Container) { c.Spec.RestartPolicy = spec.RestartNever }))
			if err := d.Kill(context.Background(), "db", 0); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "waits for db: stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newJournaled(t)
			tt.setup(t, d)
			plan := applyPlan(t, d, 4,
				ctr("db", img2022, spec.IsolationProcess, func(c *spec.Container) { c.Spec.RestartPolicy = spec.RestartNever }),
				ctr("web", img2022, spec.IsolationProcess, dependsOn("db", spec.ConditionStarted)))
			web := actionOf(t, plan, "web")
			if web.Status != StatusFailed || !errors.Is(web.Err, ErrDependencyNotReady) || !strings.Contains(web.Err.Error(), tt.wantErr) {
				t.Errorf("web: %s %v, want failed saying %q", web.Status, web.Err, tt.wantErr)
			}
			if slices.Contains(d.entries(), "create web") {
				t.Error("web was created")
			}
		})
	}
}

func TestDependsOnCycleDoesNotDeadlock(t *testing.T) {
	d := newJournaled(t)
	plan := applyPlan(t, d, 1,
		ctr("a", img2022, spec.IsolationProcess, dependsOn("b", spec.ConditionStarted)),
		ctr("b", img2022, spec.IsolationProcess, dependsOn("a", spec.ConditionStarted)),
		ctr("c", img2022, spec.IsolationProcess, dependsOn("b", spec.ConditionStarted)),
		ctr("d", img2022, spec.IsolationProcess))
	for _, name := range []string{"a", "b"} {
		if a := actionOf(t, plan, name); !errors.Is(a.Err, ErrDependencyCycle) {
			t.Errorf("%s: %v, want ErrDependencyCycle", name, a.Err)
		}
	}
	if c := actionOf(t, plan, "c"); !errors.Is(c.Err, ErrDependencyNotReady) {
		t.Errorf("c (behind the cycle): %v, want ErrDependencyNotReady", c.Err)
	}
	if a := actionOf(t, plan, "a"); !strings.Contains(a.Err.Error(), "a → b → a") {
		t.Errorf("a: %v, want the cycle named", a.Err)
	}
	if d := actionOf(t, plan, "d"); d.Status != StatusDone {
		t.Errorf("d (independent): %s %v", d.Status, d.Err)
	}
}

func TestDependsOnRemovesInReverse(t *testing.T) {
	d := newJournaled(t)
	// a depends on web, which depends on db: removal order a, web, db,
	// whatever the plan's (alphabetical) order.
	applyPlan(t, d, 4,
		ctr("a", img2022, spec.IsolationProcess, dependsOn("web", spec.ConditionStarted)),
		ctr("db", img2022, spec.IsolationProcess),
		ctr("web", img2022, spec.IsolationProcess, dependsOn("db", spec.ConditionStarted)))
	d.journal = nil
	plan := applyPlan(t, d, 4)
	for _, a := range plan.Actions {
		if a.Status != StatusDone {
			t.Errorf("%s: %s %v", a, a.Status, a.Err)
		}
	}
	if got, want := d.entries(), []string{"remove a", "remove web", "remove db"}; !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
}

// TestDependsOnWaitHoldsNoSlot proves a wait for health takes none of the
// parallel slots: with one slot, the independent containers are created
// while db is still unhealthy (its checks pass only once they are).
func TestDependsOnWaitHoldsNoSlot(t *testing.T) {
	d := newJournaled(t)
	unhealthy := fmt.Errorf("starting: %w", driver.ErrUnhealthy)
	d.health["db"] = []error{unhealthy}
	d.beforeCheck = func(string) {
		j := d.entries()
		if slices.Contains(j, "create x") && slices.Contains(j, "create y") {
			d.mu.Lock()
			d.health["db"] = []error{nil}
			d.mu.Unlock()
		}
	}
	hc := fastCheck
	hc.Retries = 1 << 20 // fail until x and y are there
	plan := applyPlan(t, d, 1,
		ctr("db", img2022, spec.IsolationProcess, withHealth(hc)),
		ctr("web", img2022, spec.IsolationProcess, dependsOn("db", spec.ConditionHealthy)),
		ctr("x", img2022, spec.IsolationProcess),
		ctr("y", img2022, spec.IsolationProcess))
	for _, a := range plan.Actions {
		if a.Status != StatusDone {
			t.Errorf("%s: %s %v", a, a.Status, a.Err)
		}
	}
	j := d.entries()
	if index(j, "create web") < index(j, "create y") || index(j, "create web") < index(j, "check db ok") {
		t.Errorf("journal %v: web before y or before db was healthy", j)
	}
}
