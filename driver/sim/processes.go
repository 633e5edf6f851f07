package sim

import (
	"path"
	"strings"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// The processes every emulated container runs besides its command: the
// session manager and the container execution agent, as a Windows
// container shows in `docker top`.
var systemProcessNames = []string{"smss.exe", "CExecSvc.exe"}

const (
	// defaultCommand is what a Windows base image runs when the spec has no
	// command.
	defaultCommand = `C:\Windows\System32\cmd.exe`
	// firstVMPID is where a utility VM's own PID counter starts: a fresh
	// kernel, so low numbers, never host PIDs (those start at firstHostPID).
	firstVMPID   = 100
	vmWorkerPath = `C:\Windows\System32\vmwp.exe`
)

// pidCounter hands out PIDs in steps of pidStep.
type pidCounter struct{ next uint32 }

func (c *pidCounter) take() uint32 {
	pid := c.next
	c.next += pidStep
	return pid
}

// startProcesses emulates starting a container with this command: the
// processes inside it and, for Hyper-V isolation, the host's VM worker
// process. Process-isolated containers take their PIDs from the host
// counter; Hyper-V ones from their utility VM's own counter, and only the
// worker takes a host PID.
func startProcesses(iso spec.Isolation, id string, command []string, host *pidCounter) (inside []driver.Process, worker *driver.Process) {
	pids := host
	if iso == spec.IsolationHyperV {
		pids = &pidCounter{next: firstVMPID}
	}
	for _, name := range systemProcessNames {
		inside = append(inside, driver.Process{PID: pids.take(), Name: name})
	}
	if len(command) == 0 {
		command = []string{defaultCommand}
	}
	inside = append(inside, driver.Process{PID: pids.take(), Name: executableName(command[0]), Command: strings.Join(command, " ")})
	if iso == spec.IsolationHyperV {
		worker = &driver.Process{PID: host.take(), Name: executableName(vmWorkerPath), Command: vmWorkerPath + " " + id + "@vm"}
	}
	return inside, worker
}

// executableName is the image name Windows shows for a command's program:
// its base name, with ".exe" when it names no extension
// ("ping" → "ping.exe", `C:\app\server.exe` → "server.exe").
func executableName(program string) string {
	base := path.Base(strings.ReplaceAll(program, `\`, "/"))
	if path.Ext(base) == "" {
		base += ".exe"
	}
	return base
}
