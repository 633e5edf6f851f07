//go:build !windows

package winsvc

import "context"

// IsService reports whether the process was started by the SCM: never,
// off Windows.
func IsService() bool { return false }

// Install is Windows-only.
func Install(exe, config string) error { return ErrWindowsOnly }

// Uninstall is Windows-only.
func Uninstall() error { return ErrWindowsOnly }

// Start is Windows-only.
func Start() error { return ErrWindowsOnly }

// Stop is Windows-only.
func Stop() error { return ErrWindowsOnly }

// Status is Windows-only.
func Status() (State, error) { return State{}, ErrWindowsOnly }

// Run is Windows-only.
func Run(run func(ctx context.Context) error, stopped func(error)) error { return ErrWindowsOnly }

// EventLog is the Windows Event Log, which exists only on Windows.
type EventLog struct{}

// OpenEventLog is Windows-only.
func OpenEventLog() (*EventLog, error) { return nil, ErrWindowsOnly }

// Write is Windows-only.
func (*EventLog) Write(Event) error { return ErrWindowsOnly }

// Close does nothing.
func (*EventLog) Close() error { return nil }
