package hcs

import (
	"errors"
	"fmt"

	"github.com/reconciler/reconciler/driver"
)

// HCS and Win32 codes this driver classifies. HCS reports the same
// condition either as an HRESULT (0x8037xxxx) or as the vmcompute
// NTSTATUS-style value (0xC037xxxx), so both are listed.
const (
	codeImageMismatch        = 0xC0370101 // the container's OS does not match the host's
	codeImageMismatchHR      = 0x80370101
	codeHyperVNotInstalled   = 0x80370102
	codeHyperVNotInstalledNT = 0xC0370102
	codeOperationPending     = 0xC0370103
	codeOperationPendingHR   = 0x80370117
	codeInvalidState         = 0xC0370105
	codeInvalidStateHR       = 0x80370105
	codeConnectFailed        = 0x80370108
	codeConnectionTimeout    = 0xC0370109
	codeConnectionTimeoutHR  = 0x80370109
	codeConnectionClosed     = 0x8037010A
	codeUnexpectedExit       = 0xC0370106 // HCS_E_UNEXPECTED_EXIT: "The compute system exited unexpectedly."
	codeUnexpectedExitHR     = 0x80370106
	codeSystemNotFound       = 0xC037010E
	codeSystemNotFoundHR     = 0x8037010E
	codeSystemAlreadyExists  = 0xC037010F
	codeSystemExistsHR       = 0x8037010F
	codeAlreadyStopped       = 0xC0370110
	codeAlreadyStoppedHR     = 0x80370110
	codeServiceUnavailable   = 0x80370114 // HCS_E_SERVICE_NOT_AVAILABLE: a required feature is not installed
	codeOperationTimeout     = 0x80370118
	codeServiceDisconnect    = 0x8037011E
	codeProcessStopped       = 0x8037011F
	codeElementNotFound      = 0x490 // ERROR_NOT_FOUND
	codeElementNotFoundHR    = 0x80070490
	codeAlreadyExists        = 0xB7 // ERROR_ALREADY_EXISTS
	codeAlreadyExistsHR      = 0x800700B7
	codeAccessDenied         = 0x5 // ERROR_ACCESS_DENIED
	codeAccessDeniedHR       = 0x80070005
	codeBusy                 = 0xAA // ERROR_BUSY
	codeBusyHR               = 0x800700AA
	codeHypervisorNotPresent = 0xC0351000 // ERROR_HV_NOT_PRESENT: "No hypervisor is present on this system."
	codeNotSupported         = 0x32       // ERROR_NOT_SUPPORTED: "The request is not supported."
)

// errAlreadyStopped marks a stop request on a system that has already
// stopped; Remove treats it as progress, not failure. It never leaves the
// package.
var errAlreadyStopped = errors.New("compute system already stopped")

// hcsFailure is what the Windows side learned of one hcsshim error: the
// HCS/Win32 code it carries (zero if none) and hcsshim's own predicates,
// which also see through *hcsshim.ContainerError, whose Err does not
// unwrap.
type hcsFailure struct {
	Code uint32
	// HyperVCreate is set when the failed call created or started a
	// Hyper-V isolated compute system: only there does ERROR_NOT_SUPPORTED
	// mean the host cannot run a utility VM.
	HyperVCreate   bool
	NotExist       bool
	AlreadyStopped bool
	Pending        bool
	Timeout        bool
}

// classOfCode maps an HCS or Win32 code onto a driver error class,
// errAlreadyStopped, or nil for codes that mean a permanent failure.
func classOfCode(code uint32) error {
	switch code {
	case codeSystemNotFound, codeSystemNotFoundHR, codeElementNotFound, codeElementNotFoundHR:
		return driver.ErrNotFound
	case codeSystemAlreadyExists, codeSystemExistsHR, codeAlreadyExists, codeAlreadyExistsHR:
		return driver.ErrAlreadyExists
	case codeImageMismatch, codeImageMismatchHR, codeHyperVNotInstalled, codeHyperVNotInstalledNT,
		codeHypervisorNotPresent:
		return driver.ErrIncompatible
	case codeAlreadyStopped, codeAlreadyStoppedHR, codeProcessStopped:
		return errAlreadyStopped
	case codeOperationPending, codeOperationPendingHR, codeInvalidState, codeInvalidStateHR,
		codeConnectFailed, codeConnectionTimeout, codeConnectionTimeoutHR, codeConnectionClosed,
		codeOperationTimeout, codeServiceDisconnect, codeBusy, codeBusyHR:
		return driver.ErrTransient
	}
	// codeServiceUnavailable is deliberately absent: HCS_E_SERVICE_NOT_AVAILABLE
	// says a Windows feature is missing, which no retry installs.
	return nil
}

// hintOfCode is what an operator can do about a code this driver knows to
// come from the host's set-up rather than from the container; "" for
// others. hyperVCreate is hcsFailure.HyperVCreate.
func hintOfCode(code uint32, hyperVCreate bool) string {
	switch {
	case code == codeServiceUnavailable:
		return "a Windows feature the Host Compute Service needs is not installed: " + enableFeaturesHint + "; " + withoutHCSHint
	case code == codeHypervisorNotPresent:
		return "the host has no running hypervisor, so it cannot run Hyper-V isolated containers: " +
			"enable virtualization in the firmware (on a VM, nested virtualization), make sure the hypervisor " +
			"starts (`bcdedit /set hypervisorlaunchtype auto`, then reboot), or use isolation: process"
	case code == codeNotSupported && hyperVCreate:
		return "the host refused to create a utility VM (Hyper-V isolation is not supported here: " +
			"Hyper-V missing or off, or nested virtualization not enabled on this VM): " +
			"enable `Microsoft-Hyper-V`, or use isolation: process"
	}
	return ""
}

// enableFeaturesHint says how to install what the Host Compute Service
// needs: the Containers feature, and Hyper-V for Hyper-V isolation
// (Microsoft Learn, "Get started: Prep Windows for containers").
const enableFeaturesHint = "as administrator, run `Enable-WindowsOptionalFeature -Online -FeatureName Containers` " +
	"(and `Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V` for Hyper-V isolation), then reboot"

// withoutHCSHint says what works without the Host Compute Service.
const withoutHCSHint = "or work without it: `--driver sim` runs against an emulated host, " +
	"and `reconciler validate --host-os BUILD` checks manifests against a host of that build"

// hcsUnavailable is the error New returns when the host's Host Compute
// Service does not answer its first call: what failed and what to do.
// code is the HCS/Win32 code of the failure, 0 when there is none (the
// call could not be made: vmcompute.dll, which the Containers feature
// installs, is absent).
func hcsUnavailable(code uint32, err error) error {
	switch code {
	case 0, codeServiceUnavailable:
		return fmt.Errorf("the hcs driver needs the Windows Containers feature, and the Host Compute Service is not available (%v): %s; %s",
			err, enableFeaturesHint, withoutHCSHint)
	case codeAccessDenied, codeAccessDeniedHR:
		return fmt.Errorf("the Host Compute Service refused the agent (%v): run it as administrator (an elevated prompt, or a service running as LocalSystem); %s",
			err, withoutHCSHint)
	}
	return fmt.Errorf("the Host Compute Service does not answer (%v): check that the vmcompute service runs (`Get-Service vmcompute`, `Start-Service vmcompute`); "+
		"if the Containers feature is not installed, %s; %s", err, enableFeaturesHint, withoutHCSHint)
}

// class picks the error class of a failure. The code decides when it is
// one this driver knows, because it is the most specific evidence (HCS
// reports an image mismatch by code only); hcsshim's predicates decide
// otherwise. ERROR_NOT_FOUND is both "no such system" and "process already
// exited" to hcsshim; as a code it is classified as not found.
func (f hcsFailure) class() error {
	if c := classOfCode(f.Code); c != nil {
		return c
	}
	if f.HyperVCreate && f.Code == codeNotSupported {
		return driver.ErrIncompatible
	}
	switch {
	case f.NotExist:
		return driver.ErrNotFound
	case f.AlreadyStopped:
		return errAlreadyStopped
	case f.Pending, f.Timeout:
		return driver.ErrTransient
	}
	return nil
}

// endsStop reports whether a stop request, or the wait after one, that
// failed with f has nonetheless left the system stopped: it had already
// stopped, or HCS reports that it exited unexpectedly, which is what a
// wait returns when the system went down while the wait was pending
// (hcsshim's ErrVmcomputeUnexpectedExit, 0xC0370106; microsoft/hcsshim#598
// shows the same code from Start, where it is a failure, so it is not a
// class of its own). moby's shutdownContainer/terminateContainer
// (libcontainerd/local/local_windows.go) likewise treat a wait that
// returned as the end of the system.
func (f hcsFailure) endsStop() bool {
	return errors.Is(f.class(), errAlreadyStopped) || f.Code == codeUnexpectedExit || f.Code == codeUnexpectedExitHR
}

// hcsError wraps err from operation op with its class, so callers can test
// it with errors.Is while the message keeps the host's own words (HCS's text
// and code). HCS's error types are not wrapped: they never leak upward.
func hcsError(op string, err error, f hcsFailure) error {
	activeRecording.Load().failure(op, f.Code, err.Error())
	if h := hintOfCode(f.Code, f.HyperVCreate); h != "" {
		op += ": " + h
	}
	if c := f.class(); c != nil {
		return fmt.Errorf("%s: %w: %v", op, c, err)
	}
	return fmt.Errorf("%s: %v", op, err)
}

// errnoFromHRESULT turns a raw HRESULT returned by a vmcompute.dll call into
// the code hcsshim would report: a FACILITY_WIN32 HRESULT becomes its Win32
// error code, anything else stays as it is. ok is false for success codes.
func errnoFromHRESULT(r uintptr) (code uint32, ok bool) {
	hr := uint32(r)
	if int32(hr) >= 0 {
		return 0, false
	}
	if hr&0x1fff0000 == 0x00070000 {
		hr &= 0xffff
	}
	return hr, true
}
