package notify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/reconcile"
)

// pass builds a pass report from a compact description of its actions:
// "web:failed", "db:done", "old:held", "api:rollback".
func pass(actions ...string) reconcile.PassReport {
	r := reconcile.PassReport{Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sources: []reconcile.SourceReport{{Name: "dir /m"}}}
	for _, a := range actions {
		name, status, _ := strings.Cut(a, ":")
		act := reconcile.Action{Kind: reconcile.ActionRecreate, Name: name, Reason: "image a → b", Status: reconcile.Status(status)}
		switch status {
		case "failed", "rollback":
			act.Status, act.Err = reconcile.StatusFailed, errors.New("image not found")
			if status == "rollback" {
				act.Err = fmt.Errorf("%w: health check failed", reconcile.ErrRolledBack)
			}
		case "held":
			act.Kind, act.HoldReason = reconcile.ActionRemove, "beyond --max-removals"
		}
		r.Plan.Actions = append(r.Plan.Actions, act)
	}
	return r
}

func deferred(r reconcile.PassReport, names ...string) reconcile.PassReport {
	r.Deferred = names
	return r
}

func sourceErr(r reconcile.PassReport) reconcile.PassReport {
	r.Sources = []reconcile.SourceReport{{Name: "dir /m", Err: errors.New("folder vanished")}}
	return r
}

func hostErr() reconcile.PassReport {
	return reconcile.PassReport{Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Err: errors.New("read host: timeout"), Sources: []reconcile.SourceReport{{Name: "dir /m"}}}
}

func TestWatcher(t *testing.T) {
	tests := []struct {
		name   string
		passes []reconcile.PassReport
		want   []string // "kind [containers]"
	}{
		{name: "quiet", passes: []reconcile.PassReport{pass(), pass("web:done"), pass()}},
		{name: "a failure then its recovery, once each over resyncs",
			passes: []reconcile.PassReport{pass("web:failed"), deferred(pass(), "web"), deferred(pass(), "web"), pass("web:failed"), pass(), pass()},
			want:   []string{"failed [web]", "recovered [web]"}},
		{name: "a new failure while one lasts is reported, the recovery waits for both",
			passes: []reconcile.PassReport{pass("web:failed"), pass("web:failed", "db:failed"), pass("db:failed"), pass()},
			want:   []string{"failed [web]", "failed [db]", "recovered [db]"}},
		{name: "a hold once, again when it grows",
			passes: []reconcile.PassReport{pass("a:held"), pass("a:held"), pass("a:held", "b:held"), pass(), pass("a:held")},
			want:   []string{"held [a]", "held [a b]", "held [a]"}},
		{name: "a rollback is not a failure",
			passes: []reconcile.PassReport{pass("api:rollback"), pass("api:rollback"), pass()},
			want:   []string{"rollback [api]"}},
		{name: "a source that keeps failing, and its recovery",
			passes: []reconcile.PassReport{sourceErr(pass()), sourceErr(pass()), sourceErr(pass()), sourceErr(pass()), pass()},
			want:   []string{"source-failing []", "recovered []"}},
		{name: "a source failing twice is no news",
			passes: []reconcile.PassReport{sourceErr(pass()), sourceErr(pass()), pass(), sourceErr(pass()), pass()}},
		{name: "the host unreadable keeps failures as they were",
			passes: []reconcile.PassReport{pass("web:failed"), hostErr(), hostErr(), hostErr(), pass()},
			want:   []string{"failed [web]", "source-failing []", "recovered [web]"}},
		{name: "one recovery for a source and a container",
			passes: []reconcile.PassReport{sourceErr(pass("web:failed")), sourceErr(pass("web:failed")), sourceErr(pass("web:failed")), pass()},
			want:   []string{"failed [web]", "source-failing []", "recovered [web]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			w := &Watcher{Host: "h", Owner: "o", Send: func(e Event) {
				if e.Host != "h" || e.Owner != "o" || e.Time.IsZero() || len(e.Reasons) == 0 {
					t.Errorf("event %+v lacks host, owner, time or reasons", e)
				}
				got = append(got, fmt.Sprintf("%s %v", e.Event, e.Containers))
			}}
			for _, p := range tt.passes {
				w.Observe(p)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWatcherReasons(t *testing.T) {
	var got []Event
	w := &Watcher{Send: func(e Event) { got = append(got, e) }, SourceFailingAfter: 1}
	w.Observe(sourceErr(pass("web:failed", "old:held")))
	if len(got) != 3 {
		t.Fatalf("events %+v, want source-failing, failed, held", got)
	}
	for i, want := range []string{"source dir /m could not be read 1 passes in a row: folder vanished", "web: recreate (image a → b): image not found", "beyond --max-removals"} {
		if got[i].Reasons[0] != want {
			t.Errorf("event %s reason %q, want %q", got[i].Event, got[i].Reasons[0], want)
		}
	}
}
