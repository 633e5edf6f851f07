package winsvc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

// record is a Tracker whose events are kept.
func record() (*Tracker, *[]Event) {
	var got []Event
	return NewTracker(func(e Event) { got = append(got, e) }), &got
}

func ids(events []Event) []uint32 {
	out := make([]uint32, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func failed(name string, err string) reconcile.Action {
	return reconcile.Action{Kind: reconcile.ActionRecreate, Name: name, Status: reconcile.StatusFailed, Err: errors.New(err)}
}

func done(name string) reconcile.Action {
	return reconcile.Action{Kind: reconcile.ActionCreate, Name: name, Status: reconcile.StatusDone}
}

func held(name string) reconcile.Action {
	return reconcile.Action{Kind: reconcile.ActionRemove, Name: name, Status: reconcile.StatusHeld, HoldReason: "more than half of the owned containers; approve with reconciler removals approve"}
}

func plan(actions ...reconcile.Action) reconcile.Plan { return reconcile.Plan{Actions: actions} }

// TestTrackerPasses: one event per change of state, never one per pass.
func TestTrackerPasses(t *testing.T) {
	deferred := reconcile.Plan{Unchanged: []string{"web"}, Warnings: []spec.Problem{{Name: "web", Warning: true,
		Message: "recreate (image a → b) deferred until 10:00:00: it failed 1 time(s), last with: boom; the previous spec keeps running"}}}
	tests := []struct {
		name   string
		passes []reconcile.Plan
		want   []uint32
		// wantText is in the first event's message.
		wantText string
	}{
		{name: "a quiet pass says nothing", passes: []reconcile.Plan{plan(done("web")), plan()}, want: []uint32{}},
		{name: "a failure is reported once while it lasts", passes: []reconcile.Plan{plan(failed("web", "host port 8080 is taken")), plan(failed("web", "host port 8080 is taken")), plan(failed("web", "again"))},
			want: []uint32{EventActionsFailed}, wantText: "recreate web: host port 8080 is taken"},
		{name: "another container failing is reported", passes: []reconcile.Plan{plan(failed("web", "x")), plan(failed("web", "x"), failed("db", "y"))},
			want: []uint32{EventActionsFailed, EventActionsFailed}},
		{name: "recovery once the container converged", passes: []reconcile.Plan{plan(failed("web", "x")), plan(done("web")), plan()},
			want: []uint32{EventActionsFailed, EventActionsRecovered}},
		{name: "a deferred retry is not a recovery", passes: []reconcile.Plan{plan(failed("web", "x")), deferred, deferred},
			want: []uint32{EventActionsFailed}},
		{name: "a failing container no longer declared recovers", passes: []reconcile.Plan{plan(failed("web", "x")), plan()},
			want: []uint32{EventActionsFailed, EventActionsRecovered}},
		{name: "one of two still failing: no recovery yet", passes: []reconcile.Plan{plan(failed("web", "x"), failed("db", "y")), plan(done("web"), failed("db", "y")), plan(done("db"))},
			want: []uint32{EventActionsFailed, EventActionsRecovered}},
		{name: "a rollback is its own event, beside the failure", passes: []reconcile.Plan{plan(failed("web", "create failed: unhealthy; restored the previous spec (v1-abc)"))},
			want: []uint32{EventActionsFailed, EventRollback}, wantText: "restored the previous spec"},
		{name: "held removals: once, again when the set changes, released", passes: []reconcile.Plan{plan(held("a"), held("b")), plan(held("b"), held("a")), plan(held("a"), held("b"), held("c")), plan(done("x"))},
			want: []uint32{EventRemovalsHeld, EventRemovalsHeld, EventRemovalsReleased}, wantText: "2 removal(s) held: a, b\nmore than half"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, got := record()
			for _, p := range tt.passes {
				tr.Pass(p)
			}
			if !slices.Equal(ids(*got), tt.want) {
				t.Fatalf("events %v, want %v: %+v", ids(*got), tt.want, *got)
			}
			for _, e := range *got {
				if e.Level != kind(e.ID).Level {
					t.Errorf("event %d at level %s, catalog says %s", e.ID, e.Level, kind(e.ID).Level)
				}
			}
			if tt.wantText != "" && !strings.Contains((*got)[0].Message, tt.wantText) {
				t.Errorf("message %q, want it to hold %q", (*got)[0].Message, tt.wantText)
			}
		})
	}
}

// TestObserverLogs: the agent's own log lines, through a real zap logger
// teed with the Observer, make the source, host and start events, on
// transitions only.
func TestObserverLogs(t *testing.T) {
	tr, got := record()
	logged, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(logged).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, NewObserver(tr)) }))

	log.Info("agent started", zap.String("owner", "reconciler"), zap.String("driver", "hcs"), zap.Int("sources", 2))
	git := log.Named("git").With(zap.String("source", "git https://example.invalid/ops.git"))
	dir := log.Named("dir").With(zap.String("source", `dir C:\manifests`))
	git.Warn("git poll failed; the commit in force stays, retrying", zap.Error(errors.New("remote unreachable")), zap.String("class", "git remote"))
	git.Debug("git poll still failing")
	git.Warn("git poll failed; the commit in force stays, retrying", zap.Error(errors.New("auth")), zap.String("class", "git config")) // class changed: same state
	dir.Info("folder is back, watching it again")                                                                                      // was not failing: nothing
	dir.Warn("folder vanished or cannot be read, looking for it")
	git.Info("git remote reachable again")
	log.Named("agent").Error("pass failed: the host could not be read; will retry", zap.Error(errors.New("host read timed out")), zap.Uint64("pass", 7))
	log.Named("agent").Info("host readable again")
	log.Info("pass done") // says nothing of state
	tr.Stopped(nil)
	tr.Stopped(fmt.Errorf("source git: %w", errors.New("bad key")))

	want := []uint32{EventStarted, EventSourceFailing, EventSourceFailing, EventSourceRecovered, EventHostUnreadable, EventHostRecovered, EventStopped, EventStoppedWithError}
	if !slices.Equal(ids(*got), want) {
		t.Fatalf("events %v, want %v: %+v", ids(*got), want, *got)
	}
	for i, wantText := range []string{
		"agent started: driver=hcs, owner=reconciler, sources=2",
		"source git https://example.invalid/ops.git: git poll failed; the commit in force stays, retrying: class=git remote, error=remote unreachable",
		`source dir C:\manifests: folder vanished`,
		"source git https://example.invalid/ops.git: git remote reachable again",
		"pass failed: the host could not be read; will retry: error=host read timed out",
		"host readable again",
		"agent stopped",
		"agent stopped with an error: source git: bad key",
	} {
		if !strings.HasPrefix((*got)[i].Message, wantText) {
			t.Errorf("event %d: %q, want prefix %q", (*got)[i].ID, (*got)[i].Message, wantText)
		}
	}
	if logs.Len() != 10 {
		t.Errorf("the logger's own core got %d lines, want all 10: the observer must not take lines from it", logs.Len())
	}
}

// TestLogSignalsAreLogged keeps logSignals in step with the components'
// messages: each is logged, word for word, where the table says.
func TestLogSignalsAreLogged(t *testing.T) {
	var src strings.Builder
	for _, pattern := range []string{"../../reconcile/*.go", "../../reconcile/source/*.go", "../../cmd/reconciler/*.go"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("glob %s: %v", pattern, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
	}
	for msg := range logSignals {
		if !strings.Contains(src.String(), fmt.Sprintf("%q", msg)) {
			t.Errorf("no component logs %q any more: update logSignals", msg)
		}
	}
	if !strings.Contains(src.String(), fmt.Sprintf("%q", startedMessage)) {
		t.Errorf("watch no longer logs %q", startedMessage)
	}
}

// TestReadmeListsEveryEvent: the README's "Windows events" table has a row
// per event of the catalog, with its id and level.
func TestReadmeListsEveryEvent(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, k := range Catalog {
		row := fmt.Sprintf("| %d | %s |", k.ID, k.Level)
		if !strings.Contains(readme, row) {
			t.Errorf("README has no row starting %q", row)
		}
	}
}

func TestCatalog(t *testing.T) {
	seen := map[uint32]bool{}
	for i, k := range Catalog {
		if k.ID < 1 || k.ID > 1000 {
			t.Errorf("event %d: EventCreate's message file covers ids 1-1000 only", k.ID)
		}
		if seen[k.ID] || (i > 0 && k.ID < Catalog[i-1].ID) {
			t.Errorf("event %d repeated or out of order", k.ID)
		}
		seen[k.ID] = true
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", maxMessage)
	got := truncate(long)
	if len(got) > maxMessage+64 || !strings.HasSuffix(got, "(cut; the log file has it all)") {
		t.Errorf("truncate: %d bytes, suffix %q", len(got), got[len(got)-40:])
	}
	if !strings.HasPrefix(got, strings.Repeat("é", 10)) || strings.ContainsRune(got, '\uFFFD') {
		t.Error("truncate cut inside a character")
	}
	if truncate("short") != "short" {
		t.Error("a short message changed")
	}
}
