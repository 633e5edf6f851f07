//go:build windows

package hcs

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// readHostRegistry reads the host facts: build, UBR and installation type
// from the CurrentVersion key, and Hyper-V from the presence of the Hyper-V
// Virtual Machine Management service (vmms), which the Hyper-V role or
// feature installs, and of a running hypervisor (readHypervisorPresent).
func readHostRegistry() (hostRegistryValues, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE)
	if err != nil {
		return hostRegistryValues{}, fmt.Errorf("host: open CurrentVersion: %w", err)
	}
	defer k.Close()
	var v hostRegistryValues
	if v.CurrentBuildNumber, _, err = k.GetStringValue("CurrentBuildNumber"); err != nil {
		return hostRegistryValues{}, fmt.Errorf("host: CurrentBuildNumber: %w", err)
	}
	ubr, _, err := k.GetIntegerValue("UBR")
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return hostRegistryValues{}, fmt.Errorf("host: UBR: %w", err)
	}
	v.UBR = uint32(ubr)
	if v.InstallationType, _, err = k.GetStringValue("InstallationType"); err != nil {
		return hostRegistryValues{}, fmt.Errorf("host: InstallationType: %w", err)
	}
	vmms, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\vmms`, registry.QUERY_VALUE)
	switch {
	case err == nil:
		v.VMMS = true
		vmms.Close()
	case !errors.Is(err, registry.ErrNotExist):
		return hostRegistryValues{}, fmt.Errorf("host: Hyper-V service key: %w", err)
	}
	if v.VMMS {
		v.HypervisorPresent = readHypervisorPresent()
	}
	return v, nil
}

// systemHypervisorInformation is SYSTEM_INFORMATION_CLASS
// SystemHypervisorInformation.
const systemHypervisorInformation = 0x5B

// readHypervisorPresent asks the kernel whether a hypervisor is present
// (see hypervisorPresent). When the kernel cannot say, it answers true:
// the vmms key alone then decides, as before, and HCS's own refusal
// (0xC0351000) is the backstop.
func readHypervisorPresent() bool {
	info := make([]byte, hypervisorInfoSize)
	var n uint32
	if err := windows.NtQuerySystemInformation(systemHypervisorInformation, unsafe.Pointer(&info[0]), uint32(len(info)), &n); err != nil {
		return true
	}
	present, err := hypervisorPresent(info[:n])
	return err != nil || present
}
