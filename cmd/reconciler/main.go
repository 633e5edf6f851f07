// Command reconciler is a GitOps agent for Windows containers: it makes the
// host's compute systems match the containers declared in YAML manifests.
// This package is wiring only: flags, drivers, sources, output.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/reconciler/reconciler/reconcile/source"
)

func main() {
	// go-git's protocol table is process-wide: set once, here.
	source.InstallFileTransport()
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "reconciler: stopping (in-flight operations finish or time out); signal again to exit at once")
		cancel()
		<-signals
		fmt.Fprintln(os.Stderr, "reconciler: second signal, exiting at once")
		os.Exit(130)
	}()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
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
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "reconciler:", source.RedactText(ee.err.Error()))
		}
		return ee.code
	}
	// A flag value echoed by the flag parser may be a URL with a token.
	fmt.Fprintln(stderr, "reconciler:", source.RedactText(err.Error()))
	return 1
}
