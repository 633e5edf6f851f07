package reconcile

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/spec"
)

// crashPass kills name (its main process exits with code 1) and runs one
// pass at now with the restart counts of l, recording its restarts.
func crashPass(t *testing.T, h interface {
	Kill(context.Context, string, int) error
}, ex *Executor, l *RestartLedger, now time.Time, c spec.Container) (Plan, []string) {
	t.Helper()
	ctx := context.Background()
	if err := h.Kill(ctx, c.Metadata.Name, 1); err != nil {
		t.Fatal(err)
	}
	policy := Policy{Owner: "reconciler", Restarts: l.At(now)}
	plan, err := Converge(ctx, ex.Driver, spec.Set{Containers: []spec.Container{c}}, policy, ex, false)
	if err != nil {
		t.Fatal(err)
	}
	_, limited := l.Record(now, plan)
	return plan, limited
}

func TestRestartLimitLeavesAFlappingContainerStopped(t *testing.T) {
	limit := func(c *spec.Container) { c.Spec.RestartLimit = spec.RestartLimit{MaxRestarts: 3, Window: "10m"} }
	tests := []struct {
		name string
		// between is what happens after the limit is reached, before the
		// last pass; wantRestart whether that pass restarts.
		between     func(c *spec.Container, now *time.Time)
		wantRestart bool
	}{
		{name: "past the limit it stays stopped", between: func(*spec.Container, *time.Time) {}},
		{name: "a new spec resets the count", between: func(c *spec.Container, _ *time.Time) { c.Spec.Env = map[string]string{"FIX": "1"} }, wantRestart: true},
		{name: "the window passing resets the count", between: func(_ *spec.Container, now *time.Time) { *now = now.Add(11 * time.Minute) }, wantRestart: true},
		{name: "a raised limit lets it restart", between: func(c *spec.Container, _ *time.Time) { c.Spec.RestartLimit.MaxRestarts = 4 }, wantRestart: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			ex := &Executor{Driver: h, NewBackOff: fastBackOff, Logger: zaptest.NewLogger(t)}
			c := ctr("web", img2022, spec.IsolationProcess, limit)
			if _, err := Converge(context.Background(), h, spec.Set{Containers: []spec.Container{c}}, Policy{Owner: "reconciler"}, ex, false); err != nil {
				t.Fatal(err)
			}
			var l RestartLedger
			now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
			for i := range 3 {
				now = now.Add(time.Minute)
				plan, _ := crashPass(t, h, ex, &l, now, c)
				if len(plan.Actions) != 1 || plan.Actions[0].Status != StatusDone {
					t.Fatalf("restart %d: %v", i+1, plan.Actions)
				}
			}
			now = now.Add(time.Minute)
			plan, _ := crashPass(t, h, ex, &l, now, c)
			if len(plan.Actions) != 0 || len(plan.Warnings) != 1 || !strings.Contains(plan.Warnings[0].Message, "left stopped: restart limit reached (3 restarts within 10m") {
				t.Fatalf("4th exit: actions %v, warnings %v; want none and the limit", plan.Actions, plan.Warnings)
			}
			if plan.Warnings[0].File != "web.yaml" || plan.Unchanged[0] != "web" {
				t.Errorf("warning %+v, unchanged %v: want it at web.yaml, web unchanged", plan.Warnings[0], plan.Unchanged)
			}
			live, _ := h.List(context.Background())
			if got := l.LimitedAt(now, live[0]); got != "restart limit: 3 in 10m" {
				t.Errorf("LimitedAt = %q", got)
			}
			tt.between(&c, &now)
			plan, err := Converge(context.Background(), h, spec.Set{Containers: []spec.Container{c}}, Policy{Owner: "reconciler", Restarts: l.At(now)}, ex, false)
			if err != nil {
				t.Fatal(err)
			}
			if restarted := len(plan.Actions) == 1; restarted != tt.wantRestart {
				t.Errorf("restarted %t, want %t (plan %v %v)", restarted, tt.wantRestart, plan.Actions, plan.Warnings)
			}
		})
	}
}

func TestRestartLimitDefault(t *testing.T) {
	maxRestarts, window := restartLimitOf(spec.RestartLimit{})
	if maxRestarts != DefaultMaxRestarts || window != DefaultRestartWindow || window.Std() != 10*time.Minute {
		t.Errorf("default = %d in %s, want %d in %s", maxRestarts, window, DefaultMaxRestarts, DefaultRestartWindow)
	}
	if m, w := restartLimitOf(spec.RestartLimit{MaxRestarts: 2}); m != 2 || w != DefaultRestartWindow {
		t.Errorf("maxRestarts only = %d in %s", m, w)
	}
}

func TestRestartLedgerRecord(t *testing.T) {
	h := newHost(t)
	ex := &Executor{Driver: h, NewBackOff: fastBackOff, Logger: zaptest.NewLogger(t)}
	c := ctr("web", img2022, spec.IsolationProcess, func(c *spec.Container) { c.Spec.RestartLimit = spec.RestartLimit{MaxRestarts: 1, Window: "1m"} })
	if _, err := Converge(context.Background(), h, spec.Set{Containers: []spec.Container{c}}, Policy{Owner: "reconciler"}, ex, false); err != nil {
		t.Fatal(err)
	}
	var l RestartLedger
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	crashPass(t, h, ex, &l, now, c)
	if got := len(l.Containers["web"].Restarts); got != 1 {
		t.Fatalf("%d restarts recorded, want 1", got)
	}
	// The limit stops it: reported once, not again by the next pass.
	now = now.Add(time.Second)
	plan, limited := crashPass(t, h, ex, &l, now, c)
	if len(limited) != 1 || limited[0] != "web" {
		t.Errorf("first limited pass: limited %v, want web", limited)
	}
	if changed, limited := l.Record(now, plan); changed || len(limited) != 0 {
		t.Errorf("second limited pass: changed %t, limited %v: want it reported once", changed, limited)
	}
	// Kept in a file, as the agent keeps it across restarts.
	path := filepath.Join(t.TempDir(), "restarts.json")
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRestartLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := h.List(context.Background())
	if got := back.LimitedAt(now, live[0]); got != "restart limit: 1 in 1m" {
		t.Errorf("reloaded LimitedAt = %q", got)
	}
	// Past the window, the history is forgotten.
	if changed, _ := back.Record(now.Add(2*time.Minute), Plan{}); !changed || len(back.Containers) != 0 {
		t.Errorf("past the window: changed %t, %v left", changed, back.Containers)
	}
	if empty, err := LoadRestartLedger(filepath.Join(t.TempDir(), "none.json")); err != nil || len(empty.Containers) != 0 {
		t.Errorf("missing file: %v %v", empty, err)
	}
}
