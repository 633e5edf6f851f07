package reconcile

import (
	"runtime/debug"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/spec"
)

// TestAgentTrimMemory: with TrimMemory, the agent runs the collector at
// half of GOGC while it runs, returns memory to the OS once it is quiet
// after a pass, and gives GOGC back when Run returns.
func TestAgentTrimMemory(t *testing.T) {
	gogc := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(gogc) })
	h := newHost(t)
	core, logs := observer.New(zap.DebugLevel)
	got := newPasses()
	a := &Agent{Sources: []Source{newMemSource(ctr("web", img2022, spec.IsolationProcess))}, Driver: h, Executor: &Executor{Driver: h},
		Policy: Policy{Owner: "reconciler"}, Resync: time.Hour, Logger: zap.New(core), OnPass: got.add, TrimMemory: true}
	a.mem.after = time.Millisecond
	stop := startAgent(t, a)
	got.next(t, "web is created", func(p Plan) bool { return p.Counts().Create == 1 })
	deadline := time.After(10 * time.Second)
	for logs.FilterMessage("memory returned to the OS").Len() == 0 {
		select {
		case <-deadline:
			t.Fatal("no trim after the pass")
		case <-time.After(time.Millisecond):
		}
	}
	if while := debug.SetGCPercent(100); while != 50 {
		t.Errorf("GOGC while running = %d, want 50", while)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if after := debug.SetGCPercent(100); after != 100 {
		t.Errorf("GOGC after Run = %d, want 100 back", after)
	}
}
