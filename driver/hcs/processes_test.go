package hcs

import (
	"reflect"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestContainerProcesses(t *testing.T) {
	got := containerProcesses([]processListItem{{ProcessID: 3964, ImageName: "PING.EXE"}, {ProcessID: 1200, ImageName: "CExecSvc.exe"}})
	want := []driver.Process{{PID: 1200, Name: "CExecSvc.exe"}, {PID: 3964, Name: "PING.EXE"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestHostView(t *testing.T) {
	const vmID = "5D9B4F3E-1A2C-4B6D-8E0F-A1B2C3D4E5F6"
	table := []hostProcess{
		{PID: 4, Name: "System"},
		{PID: 1200, Name: "CExecSvc.exe"},
		{PID: 3964, Name: "PING.EXE"},
		{PID: 2376, Name: "vmwp.exe", Account: `NT VIRTUAL MACHINE\5d9b4f3e-1a2c-4b6d-8e0f-a1b2c3d4e5f6`},
		{PID: 2400, Name: "vmwp.exe", Account: `NT VIRTUAL MACHINE\00000000-1111-2222-3333-444444444444`},
		{PID: 2412, Name: "vmmem", Account: `NT VIRTUAL MACHINE\5D9B4F3E-1A2C-4B6D-8E0F-A1B2C3D4E5F6`},
		{PID: 2420, Name: "VMWP.EXE", Account: `NT VIRTUAL MACHINE\7e1f0000-aaaa-bbbb-cccc-ddddeeeeffff`},
		{PID: 2424, Name: "Vmmem.exe", Account: `NT VIRTUAL MACHINE\7e1f0000-aaaa-bbbb-cccc-ddddeeeeffff`},
		{PID: 2430, Name: "notepad.exe", Account: `NT VIRTUAL MACHINE\7e1f0000-aaaa-bbbb-cccc-ddddeeeeffff`},
	}
	inside := []driver.Process{{PID: 1200, Name: "CExecSvc.exe"}, {PID: 3964, Name: "PING.EXE"}}
	tests := []struct {
		name      string
		iso       spec.Isolation
		inside    []driver.Process
		runtimeID string
		want      []driver.Process
	}{
		{"process: same PIDs on the host", spec.IsolationProcess, inside, "", inside},
		{"process: exited meanwhile", spec.IsolationProcess, []driver.Process{{PID: 9999, Name: "gone.exe"}}, "", nil},
		{"hyperv: its own vmwp only", spec.IsolationHyperV, []driver.Process{{PID: 1732, Name: "PING.EXE"}}, "{" + vmID + "}",
			[]driver.Process{{PID: 2376, Name: "vmwp.exe"}, {PID: 2412, Name: "vmmem"}}},
		{"hyperv: names in any case, vmmem.exe too", spec.IsolationHyperV, nil, "7E1F0000-AAAA-BBBB-CCCC-DDDDEEEEFFFF",
			[]driver.Process{{PID: 2420, Name: "VMWP.EXE"}, {PID: 2424, Name: "Vmmem.exe"}}},
		{"hyperv: unknown runtime id", spec.IsolationHyperV, nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hostView(tt.iso, tt.inside, table, tt.runtimeID)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIsVMProcess(t *testing.T) {
	for name, want := range map[string]bool{
		"vmwp.exe": true, "VMWP.EXE": true, "vmmem": true, "VMMEM": true, "vmmem.exe": true, "Vmmem.Exe": true,
		"vmwp": false, "vmmemWSA": false, "vmcompute.exe": false, "": false,
	} {
		if got := isVMProcess(name); got != want {
			t.Errorf("isVMProcess(%q) = %v, want %v", name, got, want)
		}
	}
}
