//go:build !windows

package test

import (
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup prepares cmd for interrupt: nothing to do off Windows,
// where a signal reaches one process.
func ownProcessGroup(*exec.Cmd) {}

// interrupt asks the agent p to stop as a service manager does: SIGTERM.
func interrupt(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
