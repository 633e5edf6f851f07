//go:build windows

package hcs

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/Microsoft/hcsshim"
	"golang.org/x/sys/windows"

	"github.com/reconciler/reconciler/spec"
)

// procEnumerateComputeSystems is vmcompute.dll's HcsEnumerateComputeSystems,
// called directly rather than through hcsshim.GetContainers so that the raw
// JSON reaches parseComputeSystems: hcsshim decodes RuntimeId into a GUID
// type that fails on an empty string, which would fail the whole list.
var procEnumerateComputeSystems = windows.NewLazySystemDLL("vmcompute.dll").NewProc("HcsEnumerateComputeSystems")

// enumerateComputeSystems returns HCS's JSON list of the compute systems
// matching q. Synchronous.
func enumerateComputeSystems(q computeSystemQuery) ([]byte, error) {
	out, code, err := enumerateRaw(q)
	if code != 0 {
		return nil, hcsError("enumerate compute systems", err, hcsFailure{Code: code})
	}
	if err == nil {
		activeRecording.Load().list(out)
	}
	return out, err
}

// probeHCS checks that HCS answers (enumerating owner's systems), saying
// what to do when it does not (hcsUnavailable).
func probeHCS(owner string) error {
	_, code, err := enumerateRaw(computeSystemQuery{Owners: []string{owner}})
	if err != nil {
		return hcsUnavailable(code, err)
	}
	return nil
}

// enumerateRaw calls HcsEnumerateComputeSystems. A failure of the call
// itself comes with its HCS/Win32 code; code is 0 when vmcompute.dll or
// the function is missing, or the query cannot be encoded.
func enumerateRaw(q computeSystemQuery) (out []byte, code uint32, err error) {
	if err := procEnumerateComputeSystems.Find(); err != nil {
		return nil, 0, fmt.Errorf("vmcompute.dll: %w", err)
	}
	query, err := json.Marshal(q)
	if err != nil {
		return nil, 0, fmt.Errorf("enumerate compute systems: %w", err)
	}
	qp, err := windows.UTF16PtrFromString(string(query))
	if err != nil {
		return nil, 0, fmt.Errorf("enumerate compute systems: %w", err)
	}
	var systems, result *uint16
	r, _, _ := syscall.SyscallN(procEnumerateComputeSystems.Addr(),
		uintptr(unsafe.Pointer(qp)), uintptr(unsafe.Pointer(&systems)), uintptr(unsafe.Pointer(&result)))
	list := takeCoTaskMemString(systems)
	takeCoTaskMemString(result)
	if c, failed := errnoFromHRESULT(r); failed {
		return nil, c, syscall.Errno(c)
	}
	if list == "" {
		return []byte("[]"), 0, nil
	}
	return []byte(list), 0, nil
}

// takeCoTaskMemString copies and frees a string HCS allocated.
func takeCoTaskMemString(p *uint16) string {
	if p == nil {
		return ""
	}
	s := windows.UTF16PtrToString(p)
	windows.CoTaskMemFree(unsafe.Pointer(p))
	return s
}

// failureOf reads an hcsshim error: hcsshim's predicates, and the errno
// inside *hcsshim.ContainerError / *hcsshim.ProcessError (whose Err does not
// unwrap) or anywhere in the chain.
func failureOf(err error) hcsFailure {
	f := hcsFailure{
		NotExist:       hcsshim.IsNotExist(err),
		AlreadyStopped: hcsshim.IsAlreadyStopped(err),
		Pending:        hcsshim.IsPending(err),
		Timeout:        hcsshim.IsTimeout(err),
	}
	inner := err
	var ce *hcsshim.ContainerError
	var pe *hcsshim.ProcessError
	switch {
	case errors.As(err, &ce):
		inner = ce.Err
	case errors.As(err, &pe):
		inner = pe.Err
	}
	var errno syscall.Errno
	if errors.As(inner, &errno) {
		f.Code = uint32(errno)
	}
	return f
}

// mapError classifies an hcsshim error from operation op.
func mapError(op string, err error) error {
	return hcsError(op, err, failureOf(err))
}

// mapCreateError classifies an hcsshim error from creating or starting a
// compute system of isolation iso (see hcsFailure.HyperVCreate).
func mapCreateError(op string, err error, iso spec.Isolation) error {
	f := failureOf(err)
	f.HyperVCreate = iso == spec.IsolationHyperV
	return hcsError(op, err, f)
}

// toHCS converts a mirrored schema1 document into hcsshim's type; the JSON
// names are the same by construction.
func toHCS[T any](v any) (*T, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	return out, nil
}
