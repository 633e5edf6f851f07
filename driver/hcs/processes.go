package hcs

import (
	"sort"
	"strings"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// processListItem mirrors the fields of hcsshim's schema1.ProcessListItem
// the process view needs.
type processListItem struct {
	ProcessID uint32 `json:"ProcessId,omitempty"`
	ImageName string `json:",omitempty"`
}

// hostProcess is one entry of the host's process table: its PID, image
// name and the account it runs as (a VM worker process runs as the
// virtual account "NT VIRTUAL MACHINE\<VM ID>").
type hostProcess struct {
	PID     uint32
	Name    string
	Account string
}

// vmProcessNames are the host processes of a Hyper-V utility VM, both run
// as the VM's virtual account: its worker process, and its memory process
// (a minimal process, "vmmem" in the process table, "vmmem.exe" on some
// builds). Compared case-insensitively, as Windows compares image names.
var vmProcessNames = []string{"vmwp.exe", "vmmem", "vmmem.exe"}

// isVMProcess reports whether a host process image name is one of a
// utility VM's.
func isVMProcess(name string) bool {
	for _, n := range vmProcessNames {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// containerProcesses converts HCS's process list, by PID.
func containerProcesses(items []processListItem) []driver.Process {
	out := make([]driver.Process, 0, len(items))
	for _, it := range items {
		out = append(out, driver.Process{PID: it.ProcessID, Name: it.ImageName})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// hostView picks what the host sees of a container: for process isolation
// the container's own processes, found in the host table under the same
// PIDs; for Hyper-V isolation the worker and memory processes of its
// utility VM (runtimeID), whose account name is the VM's ID. Without a
// runtime id the Hyper-V view is empty: it is never a guess.
func hostView(iso spec.Isolation, inside []driver.Process, table []hostProcess, runtimeID string) []driver.Process {
	var out []driver.Process
	switch iso {
	case spec.IsolationProcess:
		pids := make(map[uint32]bool, len(inside))
		for _, p := range inside {
			pids[p.PID] = true
		}
		for _, h := range table {
			if pids[h.PID] {
				out = append(out, driver.Process{PID: h.PID, Name: h.Name})
			}
		}
	case spec.IsolationHyperV:
		vm := strings.ToLower(strings.Trim(runtimeID, "{}"))
		for _, h := range table {
			_, account, _ := strings.Cut(h.Account, `\`)
			if isVMProcess(h.Name) && vm != "" && strings.ToLower(account) == vm {
				out = append(out, driver.Process{PID: h.PID, Name: h.Name})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}
