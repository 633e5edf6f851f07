package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/testfixture"
	"github.com/reconciler/reconciler/spec"
)

// wedgedDriver is a driver whose Host or List misbehaves, on demand: it
// blocks ignoring its context until released, or panics. Everything else
// is the embedded driver's.
type wedgedDriver struct {
	driver.Driver
	mu        sync.Mutex
	wedgeHost bool // Host blocks
	wedgeList bool // List blocks
	panicList int  // how many Lists still panic
	// entered and expiry receive a value each time a call starts blocking
	// (expiry is the timer of a read timeout that expires exactly then,
	// see expire); release is closed to let every blocked call return.
	entered chan string
	expiry  chan time.Time
	release chan struct{}
	once    sync.Once
}

func newWedgedDriver(t *testing.T, d driver.Driver) *wedgedDriver {
	w := &wedgedDriver{Driver: d, entered: make(chan string, 64), expiry: make(chan time.Time, 64), release: make(chan struct{})}
	t.Cleanup(w.unwedge) // no goroutine outlives the test
	return w
}

// expire gives up a read when it blocks in the driver, and never else:
// the read timeout, as a value that does not depend on the machine's load.
func (w *wedgedDriver) expire() <-chan time.Time { return w.expiry }

// block waits, ignoring ctx as a wedged HCS call does, until unwedge.
func (w *wedgedDriver) block(what string) {
	w.entered <- what
	w.expiry <- time.Time{}
	<-w.release
}

// unwedge lets every blocked call return and no later one block.
func (w *wedgedDriver) unwedge() {
	w.once.Do(func() {
		w.mu.Lock()
		w.wedgeHost, w.wedgeList = false, false
		w.mu.Unlock()
		close(w.release)
	})
}

func (w *wedgedDriver) Host(ctx context.Context) (spec.Host, error) {
	w.mu.Lock()
	wedged := w.wedgeHost
	w.mu.Unlock()
	if wedged {
		w.block("host")
	}
	return w.Driver.Host(ctx)
}

func (w *wedgedDriver) List(ctx context.Context) ([]driver.System, error) {
	w.mu.Lock()
	wedged, panics := w.wedgeList, w.panicList > 0
	if panics {
		w.panicList--
	}
	w.mu.Unlock()
	if panics {
		panic("driver bug: list")
	}
	if wedged {
		w.block("list")
	}
	return w.Driver.List(ctx)
}

// logTap is a logger whose messages a test can wait for.
type logTap struct {
	logs *observer.ObservedLogs
	msgs chan string
}

func newLogTap() (*zap.Logger, *logTap) {
	core, logs := observer.New(zap.DebugLevel)
	tap := &logTap{logs: logs, msgs: make(chan string, 4096)}
	hook := zapcore.RegisterHooks(core, func(e zapcore.Entry) error {
		select {
		case tap.msgs <- e.Message:
		default: // a test that stopped reading does not block the agent
		}
		return nil
	})
	return zap.New(hook), tap
}

// wait returns once msg has been logged (the test's patience bounds a test
// that would otherwise hang).
func (l *logTap) wait(t *testing.T, msg string) {
	t.Helper()
	failsafe := testfixture.Within(t)
	for {
		select {
		case m := <-l.msgs:
			if m == msg {
				return
			}
		case <-failsafe:
			t.Fatalf("never logged %q", msg)
		}
	}
}

func TestConvergeGivesUpOnAReadThatIgnoresItsContext(t *testing.T) {
	tests := []struct {
		name    string
		wedge   func(*wedgedDriver)
		wantErr string
	}{
		{name: "host", wedge: func(w *wedgedDriver) { w.wedgeHost = true }, wantErr: "read host: "},
		{name: "list", wedge: func(w *wedgedDriver) { w.wedgeList = true }, wantErr: "list compute systems: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWedgedDriver(t, newHost(t))
			tt.wedge(w)
			ex := &Executor{Driver: w, ReadTimeout: time.Hour}
			_, err := converge(t.Context(), readBounds{timeout: ex.ReadTimeout, expire: w.expire}, w, spec.Set{}, Policy{Owner: "reconciler"}, ex, false)
			if !errors.Is(err, ErrReadTimeout) || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Converge = %v, want %q... wrapping ErrReadTimeout", err, tt.wantErr)
			}
			if got := <-w.entered; got != tt.name {
				t.Errorf("blocked in %s, want %s", got, tt.name)
			}
		})
	}
}

func TestReadBoundedStartsNoReadPastTheStuckLimit(t *testing.T) {
	var stuck atomic.Int32
	unstuck := make(chan struct{}, maxStuckReads)
	b := readBounds{timeout: time.Millisecond, stuck: &stuck, onUnstuck: func() { unstuck <- struct{}{} }}
	release := make(chan struct{})
	var calls atomic.Int32
	// started tells that a read began: a read can time out before the
	// goroutine that makes it has run, on a loaded machine.
	started := make(chan struct{}, maxStuckReads+1)
	read := func(context.Context) (int, error) {
		calls.Add(1)
		started <- struct{}{}
		<-release
		return 1, nil
	}
	for i := range maxStuckReads {
		if _, err := readBounded(t.Context(), b, read); !errors.Is(err, ErrReadTimeout) {
			t.Fatalf("read %d = %v, want ErrReadTimeout", i, err)
		}
	}
	for range maxStuckReads {
		<-started
	}
	if _, err := readBounded(t.Context(), b, read); !errors.Is(err, ErrHostStuck) {
		t.Fatalf("read past the limit = %v, want ErrHostStuck", err)
	}
	if n := calls.Load(); n != maxStuckReads {
		t.Errorf("driver called %d times, want %d: no call past the limit", n, maxStuckReads)
	}
	close(release)
	for range maxStuckReads {
		<-unstuck
	}
	if n := calls.Load(); n != maxStuckReads {
		t.Errorf("driver called %d times once the reads returned, want %d: no call past the limit", n, maxStuckReads)
	}
	if n := stuck.Load(); n != 0 {
		t.Errorf("%d reads still counted stuck after they all returned", n)
	}
	b.timeout = time.Hour // a read that returns at once must not race a timer on a loaded machine
	if v, err := readBounded(t.Context(), b, func(context.Context) (int, error) { return 2, nil }); v != 2 || err != nil {
		t.Errorf("read once unstuck = %d, %v; want 2, nil", v, err)
	}
}

func TestReadBoundedCarriesAPanicToTheCaller(t *testing.T) {
	defer func() {
		p, ok := recover().(*passPanic)
		if !ok || p.value != "boom" || !strings.Contains(string(p.stack), "guard_test.go") {
			t.Errorf("recovered %v, want the panic with the stack where it happened", p)
		}
	}()
	_, _ = readBounded(t.Context(), readBounds{}, func(context.Context) (int, error) { panic("boom") })
	t.Error("readBounded returned after its read panicked")
}

// guardedAgent is an agent on a wedgeable driver, declaring one container;
// a read that blocks in the driver is given up at once (see expire).
func guardedAgent(t *testing.T) (*Agent, *wedgedDriver, *logTap, *passes) {
	w := newWedgedDriver(t, newHost(t))
	log, tap := newLogTap()
	got := newPasses()
	a := &Agent{Sources: []Source{newMemSource(ctr("web", img2022, spec.IsolationProcess))}, Driver: w,
		Executor: &Executor{Driver: w, ReadTimeout: time.Hour}, Policy: Policy{Owner: "reconciler"},
		Resync: time.Hour, Logger: log, OnPass: got.add, expireRead: w.expire}
	return a, w, tap, got
}

func TestAgentGoesOnPastAWedgedRead(t *testing.T) {
	a, w, tap, got := guardedAgent(t)
	w.wedgeList = true
	startAgent(t, a)
	<-w.entered
	tap.wait(t, "pass failed: the host could not be read; will retry")
	if f := tap.logs.FilterMessage("pass failed: the host could not be read; will retry").All()[0].ContextMap(); f["class"] != ErrReadTimeout.Error() || f["pass"] != uint64(1) {
		t.Errorf("failure logged with %v, want class %q and pass 1", f, ErrReadTimeout)
	}
	// The host answers again: the stuck read returns, which starts a pass.
	w.unwedge()
	got.next(t, "web is created once the host answers", func(p Plan) bool { return p.Counts().Create == 1 })
	tap.wait(t, "host readable again")
}

func TestAgentStopsAtOnceDuringAWedgedRead(t *testing.T) {
	a, w, tap, _ := guardedAgent(t)
	a.expireRead = nil // the read timeout is an hour: only the stop ends the wait
	w.wedgeHost = true
	stop := startAgent(t, a)
	<-w.entered
	if err := stop(); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if n := tap.logs.FilterMessage("stopping: no more passes").Len(); n != 1 {
		t.Errorf("stop logged %d times, want once", n)
	}
}

func TestAgentPassDeadline(t *testing.T) {
	a, w, tap, _ := guardedAgent(t)
	a.expireRead = nil // the read timeout is an hour: only the pass deadline ends the wait
	a.PassTimeout = time.Millisecond
	w.wedgeHost = true
	startAgent(t, a)
	tap.wait(t, "pass failed: the host could not be read; will retry")
	f := tap.logs.FilterMessage("pass failed: the host could not be read; will retry").All()[0].ContextMap()
	if f["class"] != ErrPassTimeout.Error() {
		t.Errorf("failure class %v, want %q", f["class"], ErrPassTimeout)
	}
}

func TestAgentGoesOnAfterAPassPanics(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*Agent, *wedgedDriver)
	}{
		{name: "in a driver read", setup: func(_ *Agent, w *wedgedDriver) { w.panicList = 1 }},
		{name: "in the pass", setup: func(a *Agent, _ *wedgedDriver) {
			var panicked atomic.Bool
			onPass := a.OnPass
			a.OnPass = func(p Plan) {
				if panicked.CompareAndSwap(false, true) {
					panic("bug after a pass")
				}
				onPass(p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, w, tap, got := guardedAgent(t)
			tt.setup(a, w)
			startAgent(t, a)
			tap.wait(t, "pass panicked: it is abandoned, the next pass runs as usual")
			e := tap.logs.FilterMessage("pass panicked: it is abandoned, the next pass runs as usual").All()[0]
			if f := e.ContextMap(); f["pass"] != uint64(1) || !strings.Contains(f["stack"].(string), "reconcile.") {
				t.Errorf("panic logged with %v, want pass 1 and a stack", f)
			}
			if n := a.Panics(); n != 1 {
				t.Errorf("Panics = %d, want 1", n)
			}
			a.Trigger()
			got.next(t, "a pass after the panic", func(Plan) bool { return true })
		})
	}
}

func TestAgentTriggerBeforeRunCounts(t *testing.T) {
	a := &Agent{}
	a.Trigger()
	a.Trigger() // coalesces
	select {
	case <-a.wakeChan():
	default:
		t.Fatal("a trigger before Run was dropped")
	}
	select {
	case <-a.wakeChan():
		t.Fatal("two triggers before Run did not coalesce")
	default:
	}
}

func TestAgentTriggerRacesRun(t *testing.T) {
	a, _, _, got := guardedAgent(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Trigger() // with -race: no race with Run making its channel
	}()
	startAgent(t, a)
	<-done
	got.next(t, "a pass", func(Plan) bool { return true })
}

// panickyCreate is a driver whose Create panics for one name.
type panickyCreate struct {
	driver.Driver
	name string
}

func (p panickyCreate) Create(ctx context.Context, req driver.CreateRequest) (driver.System, error) {
	if req.Name == p.name {
		panic("driver bug: create " + req.Name)
	}
	return p.Driver.Create(ctx, req)
}

func TestExecutorCountsAPanickingActionAsFailed(t *testing.T) {
	d := panickyCreate{Driver: newHost(t), name: "bad"}
	core, logs := observer.New(zap.InfoLevel)
	plan := planFor(t, d, ctr("bad", img2022, spec.IsolationProcess), ctr("good", img2022, spec.IsolationProcess))
	if c := plan.Counts(); c.Create != 2 {
		t.Fatalf("plan creates %d, want 2", c.Create)
	}
	(&Executor{Driver: d, Logger: zap.New(core)}).Apply(t.Context(), &plan)
	for _, a := range plan.Actions {
		switch {
		case a.Name == "bad" && (a.Status != StatusFailed || !errors.Is(a.Err, ErrPanicked)):
			t.Errorf("bad: %s %v, want failed with ErrPanicked", a.Status, a.Err)
		case a.Name == "good" && a.Status != StatusDone:
			t.Errorf("good: %s %v, want done: a panic fails its action only", a.Status, a.Err)
		}
	}
	e := logs.FilterMessage("action panicked: it counts as failed").All()
	if len(e) != 1 || e[0].ContextMap()["name"] != "bad" || !strings.Contains(e[0].ContextMap()["stack"].(string), "panickyCreate") {
		t.Errorf("panic logged %v, want once for bad with its stack", e)
	}
}
