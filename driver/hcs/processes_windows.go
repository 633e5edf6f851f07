//go:build windows

package hcs

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// hostProcessTable lists the host's processes. The account is looked up
// only for utility VM processes, the only ones whose account matters.
func hostProcessTable() ([]hostProcess, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("host process table: %w", err)
	}
	defer windows.CloseHandle(snap)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	var out []hostProcess
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		p := hostProcess{PID: e.ProcessID, Name: windows.UTF16ToString(e.ExeFile[:])}
		if isVMProcess(p.Name) {
			p.Account = processAccount(p.PID)
		}
		out = append(out, p)
	}
	if err != windows.ERROR_NO_MORE_FILES {
		return nil, fmt.Errorf("host process table: %w", err)
	}
	return out, nil
}

// processAccount returns DOMAIN\account of a process, "" when it cannot be
// read.
func processAccount(pid uint32) string {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return ""
	}
	defer windows.CloseHandle(h)
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return ""
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return ""
	}
	account, domain, _, err := u.User.Sid.LookupAccount("")
	if err != nil {
		return ""
	}
	return domain + `\` + account
}
