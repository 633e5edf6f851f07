//go:build linux

// Package benchrun builds the reconciler binary and measures the processes
// a bench runs: wall time, CPU time and peak RSS.
package benchrun

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Prepare makes a temporary folder named after the bench and builds
// ./cmd/reconciler (run from the repository root) into it; the caller
// removes work when done.
func Prepare(bench string) (work, bin string, err error) {
	work, err = os.MkdirTemp("", bench)
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(work, "reconciler")
	build := exec.Command("go", "build", "-o", bin, "./cmd/reconciler")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(work)
		return "", "", fmt.Errorf("build (run from the repository root): %w", err)
	}
	return work, bin, nil
}

// Result is what one process cost.
type Result struct {
	Wall, CPU time.Duration
	// RSS is the peak resident set, in bytes.
	RSS  int64
	Exit int
}

// Measure runs cmd to completion and returns what it cost and its exit
// code; the error is for a process that could not be run at all.
func Measure(cmd *exec.Cmd) (Result, error) {
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if _, exited := errors.AsType[*exec.ExitError](err); err != nil && !exited {
		return Result{}, err
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return Result{}, errors.New("no rusage on this system")
	}
	return Result{
		Wall: wall,
		CPU:  time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		RSS:  ru.Maxrss << 10, // KB on Linux
		Exit: cmd.ProcessState.ExitCode(),
	}, nil
}
