package reconcile

import (
	"runtime"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

// trimAfter is how long after a pass, with no other pass, the agent
// returns its free memory to the OS (Agent.TrimMemory): long enough that
// a burst of passes does not pay for it each time, short enough that the
// agent at rest holds about its live heap.
const trimAfter = 2 * time.Second

// memoryTrim is the state of Agent.TrimMemory while Run runs; only Run's
// goroutine touches it.
type memoryTrim struct {
	// gogc is the process's GOGC when Run started, 0 when left alone.
	gogc  int
	timer *time.Timer
	after time.Duration // trimAfter, shorter in tests
	log   *zap.Logger
}

// start runs the collector at half of GOGC and returns what restores it.
func (m *memoryTrim) start(log *zap.Logger) (stop func()) {
	gogc := debug.SetGCPercent(-1) // reads GOGC; set again at once
	if gogc <= 0 {
		debug.SetGCPercent(gogc) // off stays off
		return func() {}
	}
	m.gogc, m.log = gogc, log
	m.after = or(m.after, trimAfter)
	m.timer = time.NewTimer(m.after)
	m.timer.Stop()
	debug.SetGCPercent(max(gogc/2, 1))
	return func() {
		m.timer.Stop()
		debug.SetGCPercent(gogc)
		m.gogc = 0
	}
}

// firstPass runs pass n, when it is the first, at a quarter of GOGC: its
// garbage is every manifest read and parsed. It returns what restores the
// collector's setting.
func (m *memoryTrim) firstPass(n uint64) (restore func()) {
	if m.gogc == 0 || n != 1 {
		return func() {}
	}
	debug.SetGCPercent(max(m.gogc/4, 1))
	return func() { debug.SetGCPercent(max(m.gogc/2, 1)) }
}

// passDone (re)starts the wait before the next trim.
func (m *memoryTrim) passDone() {
	if m.gogc != 0 {
		m.timer.Reset(m.after)
	}
}

// quiet is ready when no pass has run for trimAfter (never when
// TrimMemory is off).
func (m *memoryTrim) quiet() <-chan time.Time {
	if m.gogc == 0 {
		return nil
	}
	return m.timer.C
}

// trim collects and returns free memory to the OS.
func (m *memoryTrim) trim() {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.log.Debug("memory returned to the OS", zap.Uint64("heapBytes", ms.HeapAlloc), zap.Uint64("heldBytes", ms.HeapSys-ms.HeapReleased))
}
