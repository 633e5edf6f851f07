package winsvc

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.uber.org/zap/zapcore"
)

// logSignal is what one log message of the agent says about its state.
type logSignal struct {
	// subject is "source" (keyed by the line's source field) or "host".
	subject string
	failing bool
}

// logSignals are the log lines that tell the state of a source or of the
// host, by message. Each is logged by its component on a transition only
// (STYLE.md lesson 17); TestLogSignalsAreLogged keeps this table and the
// messages in step.
var logSignals = map[string]logSignal{
	"git poll failed; the commit in force stays, retrying": {"source", true},
	"git remote reachable again":                           {"source", false},
	"folder vanished or cannot be read, looking for it":    {"source", true},
	"folder is back, watching it again":                    {"source", false},
	"holding removals":                                     {"source", true},
	"folder readable again, removals no longer held":       {"source", false},
	"pass failed: the host could not be read; will retry":  {"host", true},
	"host readable again":                                  {"host", false},
}

// startedMessage is the line the agent logs once it runs (watch.go).
const startedMessage = "agent started"

// Log takes a log line of the agent: its message and its fields (context
// fields included). Lines that say nothing of the agent's state are
// ignored.
func (t *Tracker) Log(msg string, fields map[string]any) {
	if msg == startedMessage {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.emit(newEvent(EventStarted, "agent started: %s", describe(fields)))
		return
	}
	sig, ok := logSignals[msg]
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if sig.subject == "host" {
		switch {
		case sig.failing && !t.host:
			t.emit(newEvent(EventHostUnreadable, "%s: %s", msg, describe(fields)))
		case !sig.failing && t.host:
			t.emit(newEvent(EventHostRecovered, "%s", msg))
		}
		t.host = sig.failing
		return
	}
	src := fmt.Sprint(fields["source"])
	switch {
	case sig.failing && !t.sources[src]:
		t.emit(newEvent(EventSourceFailing, "source %s: %s: %s", src, msg, describe(fields)))
		t.sources[src] = true
	case !sig.failing && t.sources[src]:
		t.emit(newEvent(EventSourceRecovered, "source %s: %s", src, msg))
		delete(t.sources, src)
	}
}

// Stopped writes the agent's last event: stopped, or stopped with err.
func (t *Tracker) Stopped(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.emit(newEvent(EventStoppedWithError, "agent stopped with an error: %v", err))
		return
	}
	t.emit(newEvent(EventStopped, "agent stopped"))
}

// describe renders a line's fields "key=value, …", sorted, leaving out
// the source (named apart) and the logger's own bookkeeping.
func describe(fields map[string]any) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "source" && k != "pass" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, fields[k])
	}
	return strings.Join(parts, ", ")
}

// Observer is a zap core that hands the Tracker the log lines it reads
// (Tracker.Log), to be teed with the logger's own core:
//
//	log = log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
//		return zapcore.NewTee(c, winsvc.NewObserver(t))
//	}))
//
// It takes only the lines of logSignals (and the start line), so the
// rest of the logging costs nothing more.
type Observer struct {
	t      *Tracker
	fields []zapcore.Field
}

// NewObserver returns an Observer feeding t.
func NewObserver(t *Tracker) *Observer { return &Observer{t: t} }

var _ zapcore.Core = (*Observer)(nil)

// Enabled reports whether the observer may take lines of level l: info
// and above (the signals are).
func (o *Observer) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

// With returns an observer that adds fields to every line.
func (o *Observer) With(fields []zapcore.Field) zapcore.Core {
	return &Observer{t: o.t, fields: append(slices.Clip(o.fields), fields...)}
}

// Check adds the observer to lines it wants.
func (o *Observer) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if _, ok := logSignals[e.Message]; (ok || e.Message == startedMessage) && o.Enabled(e.Level) {
		return ce.AddCore(e, o)
	}
	return ce
}

// Write hands the line to the tracker.
func (o *Observer) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range o.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	o.t.Log(e.Message, enc.Fields)
	return nil
}

// Sync does nothing: the tracker keeps nothing to flush.
func (o *Observer) Sync() error { return nil }
