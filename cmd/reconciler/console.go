package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// console is where the process speaks outside any command: the notices of
// a stop signal and the final error. Until the global flags are read it
// writes "reconciler: …" lines; with --log-format json it speaks through
// the command's logger, so that stderr holds JSON lines only.
type console struct {
	w    io.Writer
	json atomic.Pointer[zap.Logger]
}

// speakJSON makes c write through log from now on.
func (c *console) speakJSON(log *zap.Logger) { c.json.Store(log) }

// say writes msg at level.
func (c *console) say(level zapcore.Level, msg string) {
	if log := c.json.Load(); log != nil {
		// --log-level is at most error: an error is always said.
		if ce := log.Check(level, msg); ce != nil {
			ce.Write()
		}
		return
	}
	fmt.Fprintln(c.w, "reconciler:", msg)
}

// encodeTime writes timestamps as ISO 8601 (RFC 3339) in UTC, with
// microseconds: "2026-12-02T03:32:34.123456Z".
func encodeTime(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}
