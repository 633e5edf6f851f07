// Package winsvc runs reconciler as a Windows service: installing and
// controlling it through the Service Control Manager, running the agent
// under it, and telling the Windows Event Log what the agent observes.
//
// Everything that can be decided without Windows lives in untagged files
// and is tested on Linux: the service's names and paths, its command line
// and recovery actions (service.go), the events and the mapping from the
// agent's observations (its plans and its log lines) to them (events.go,
// observe.go), and the rotating log file (logfile.go). Only the calls to
// the SCM and the event log are in //go:build windows files
// (scm_windows.go); elsewhere those calls return ErrWindowsOnly.
//
// It imports reconcile for the plan type, and nothing of the command.
package winsvc
