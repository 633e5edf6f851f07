package main

import (
	"context"
	"io"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/reconciler/reconciler/internal/winsvc"
	"github.com/reconciler/reconciler/reconcile/source"
)

// runService runs the command line args (watch --config FILE, as
// installed) under the Windows SCM, and returns the process's exit code.
// Logs go to the rotating file in winsvc.LogDir() as JSON lines; start,
// stop and what the agent observes go to the Windows Event Log (source
// winsvc.EventSource). A stop or shutdown request ends the agent as
// SIGTERM does on a console.
func runService(args []string) int {
	logs := winsvc.LogFile(winsvc.LogDir())
	defer logs.Close()
	con := &console{w: logs}
	// JSON lines from the first one on, before the command's logger is
	// built (it takes over then).
	con.speakJSON(zap.New(zapcore.NewCore(jsonEncoder(), zapcore.Lock(zapcore.AddSync(logs)), zapcore.InfoLevel)))
	emit := func(winsvc.Event) {}
	if events, err := winsvc.OpenEventLog(); err != nil {
		con.say(zapcore.WarnLevel, "no Windows events will be written: "+err.Error())
	} else {
		defer events.Close()
		emit = eventWriter(events, con)
	}
	tracker := winsvc.NewTracker(emit)
	err := winsvc.Run(func(ctx context.Context) error {
		return runServiceCommand(ctx, args, io.Discard, con, tracker)
	}, tracker.Stopped)
	return exitCode(err, con)
}

// eventSink is where events are written: the Windows Event Log.
type eventSink interface{ Write(winsvc.Event) error }

// eventWriter writes events to sink, their text redacted (a URL's user
// info never reaches the Event Log); a write that fails is said once on
// con.
func eventWriter(sink eventSink, con *console) func(winsvc.Event) {
	failed := false
	return func(e winsvc.Event) {
		e.Message = source.RedactText(e.Message)
		if err := sink.Write(e); err != nil && !failed {
			failed = true
			con.say(zapcore.WarnLevel, "writing to the Windows Event Log failed; later failures are not logged: "+err.Error())
		}
	}
}

// runServiceCommand is the command line as the service runs it: logs on
// con's writer as JSON lines, the agent's plans and log lines handed to
// tracker.
func runServiceCommand(ctx context.Context, args []string, stdout io.Writer, con *console, tracker *winsvc.Tracker) error {
	return execute(ctx, &globals{stdout: stdout, stderr: con.w, console: con, tracker: tracker}, args)
}
