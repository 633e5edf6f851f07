package winsvc

import (
	"errors"
	"os"
	"strings"
	"time"

	"github.com/reconciler/reconciler/internal/wincmd"
)

// The names shared with the installer (the MSI and install.ps1): change
// them only together.
const (
	// Name is the service's name in the SCM (sc.exe query reconciler).
	Name = "reconciler"
	// DisplayName is how services.msc shows it.
	DisplayName = "reconciler GitOps agent"
	// Description is the service's description in services.msc.
	Description = "Keeps this host's Windows containers (process and Hyper-V isolation) converged to the manifests of its folders and git repositories."
	// EventSource is the source of its events in the Application log.
	EventSource = "reconciler"
)

// ErrWindowsOnly is what the service commands say off Windows.
var ErrWindowsOnly = errors.New(`Windows services exist only on Windows: "reconciler service" installs and controls the agent there; elsewhere run "reconciler watch --config FILE" under the system's own supervisor (systemd, launchd, a container runtime)`)

// ProgramDataDir is %ProgramData%\reconciler, where the service keeps its
// config, state and logs (C:\ProgramData\reconciler when %ProgramData% is
// not set).
func ProgramDataDir() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return winJoin(pd, "reconciler")
}

// DefaultConfigPath is the config file the service runs from:
// %ProgramData%\reconciler\reconciler.yaml.
func DefaultConfigPath() string { return winJoin(ProgramDataDir(), "reconciler.yaml") }

// LogDir is where the service writes its rotating log file:
// %ProgramData%\reconciler\logs.
func LogDir() string { return winJoin(ProgramDataDir(), "logs") }

// winJoin joins Windows path elements with backslashes, whatever the
// system the code runs on (the paths are the service's, on Windows).
func winJoin(dir string, elems ...string) string {
	out := strings.TrimRight(dir, `\/`)
	for _, e := range elems {
		out += `\` + e
	}
	return out
}

// CommandLine is the command line the SCM starts the service with:
// "EXE" watch --config "CONFIG", both paths always quoted (wincmd.Quote:
// an unquoted path with a blank is the "unquoted service path" hole).
func CommandLine(exe, config string) string {
	return wincmd.Quote(exe) + " watch --config " + wincmd.Quote(config)
}

// Recovery is what the SCM does when the service fails (exits without
// saying it stopped, or stops with an error): restart it after each delay
// in turn, the last one for every later failure.
var Recovery = []time.Duration{5 * time.Second, 30 * time.Second, 60 * time.Second}

// RecoveryReset is how long the service must run without failing for the
// SCM to start over at Recovery's first delay.
const RecoveryReset = 24 * time.Hour

// StopWaitHint is how long the service tells the SCM a stop may take
// between two progress reports: operations in flight finish or time out
// (the agent's --timeout bounds them), and the service reports progress
// every StopReport while they do.
const (
	StopWaitHint = 30 * time.Second
	StopReport   = 10 * time.Second
)

// State is what the SCM says of the service.
type State struct {
	// Installed is false when there is no such service; the rest is then
	// empty.
	Installed bool
	// State is stopped, starting, running, stopping…
	State string
	// PID is the service's process id while it runs.
	PID uint32
	// StartType is "automatic (delayed start)" as installed.
	StartType string
	// CommandLine is what the SCM starts.
	CommandLine string
	// ExitCode is the service's own exit code of its last stop (1: it
	// stopped with an error, see the event log).
	ExitCode uint32
}
