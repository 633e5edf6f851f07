package source

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// A failing remote is logged when it starts failing and when it answers
// again, keyed by the class of the failure: a new wording of the same
// failure (the remote gone, then empty) is not a new warning.
func TestGitSourceLogsRemoteFailuresOnTransitions(t *testing.T) {
	t.Parallel()
	r := testfixture.NewRemote(t)
	r.Publish(map[string]string{"web.yaml": manifest("web", "process")}, nil)
	logger, logs := testLogs(t)
	msgs := make(chan string, 1024)
	logger = logger.WithOptions(zap.Hooks(func(e zapcore.Entry) error {
		select {
		case msgs <- e.Message:
		default:
		}
		return nil
	}))
	// wait returns after n more entries with this message.
	wait := func(msg string, n int) {
		t.Helper()
		failsafe := testfixture.Within(t)
		for n > 0 {
			select {
			case m := <-msgs:
				if m == msg {
					n--
				}
			case <-failsafe:
				t.Fatalf("never logged %q", msg)
			}
		}
	}
	g, err := NewGitSource(GitOptions{URL: r.Bare, Interval: 5 * time.Millisecond, CacheDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	notified := make(chan struct{}, 16)
	go func() { done <- g.Run(ctx, func() { notified <- struct{}{} }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	<-notified

	if err := os.RemoveAll(r.Bare); err != nil {
		t.Fatal(err)
	}
	wait("git poll failed; the commit in force stays, retrying", 1)
	gone := g.Status().LastError

	// Empty now: the same class, in other words. Two more polls: the
	// second began after the change.
	if _, err := git.PlainInitWithOptions(r.Bare, &git.PlainInitOptions{Bare: true, InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}}); err != nil {
		t.Fatal(err)
	}
	wait("git poll still failing", 2)
	empty := g.Status().LastError
	if empty == gone || empty == "" {
		t.Fatalf("last error %q, then %q: want two wordings of the failure", gone, empty)
	}
	warns := logs.FilterMessage("git poll failed; the commit in force stays, retrying").All()
	if len(warns) != 1 {
		t.Fatalf("failure warned %d times, want once across its wordings", len(warns))
	}
	if c := warns[0].ContextMap()["class"]; c != ErrGitRemote.Error() {
		t.Errorf("failure class %v, want %q", c, ErrGitRemote)
	}

	r.Git("push", "-q", "origin", "HEAD:refs/heads/main")
	g.Trigger() // not waiting out the backoff
	wait("git remote reachable again", 1)
	if st := g.Status(); st.LastError != "" || !strings.HasPrefix(st.Newest, st.Commit) {
		t.Errorf("status after recovery = %+v, want no error", st)
	}
}
