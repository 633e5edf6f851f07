// Command reconciler is a GitOps agent for Windows containers: it makes the
// host's compute systems match the containers declared in YAML manifests.
// This package is wiring only: flags, drivers, sources, output.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/reconciler/reconciler/internal/winsvc"
	"github.com/reconciler/reconciler/reconcile/source"
	"go.uber.org/zap/zapcore"
)

func main() {
	// go-git's protocol table is process-wide: set once, here.
	source.InstallFileTransport()
	if winsvc.IsService() {
		os.Exit(runService(os.Args[1:]))
	}
	con := &console{w: os.Stderr}
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		con.say(zapcore.InfoLevel, "stopping (in-flight operations finish or time out); signal again to exit at once")
		cancel()
		<-signals
		con.say(zapcore.WarnLevel, "second signal, exiting at once")
		os.Exit(130)
	}()
	os.Exit(exitCode(runWith(ctx, os.Args[1:], os.Stdout, con), con))
}

// exitError carries an exit code other than 1; err may be nil when the
// command already said everything.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode maps run's error to the process exit code (DESIGN §6): 0 done or
// nothing to do, 1 any error, 2 changes pending or made under
// --detailed-exitcode.
func exitCode(err error, con *console) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			con.say(zapcore.ErrorLevel, source.RedactText(ee.err.Error()))
		}
		return ee.code
	}
	// A flag value echoed by the flag parser may be a URL with a token.
	con.say(zapcore.ErrorLevel, source.RedactText(err.Error()))
	return 1
}
