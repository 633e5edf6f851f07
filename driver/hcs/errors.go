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
	codeSystemNotFound       = 0xC037010E
	codeSystemNotFoundHR     = 0x8037010E
	codeSystemAlreadyExists  = 0xC037010F
	codeSystemExistsHR       = 0x8037010F
	codeAlreadyStopped       = 0xC0370110
	codeAlreadyStoppedHR     = 0x80370110
	codeServiceUnavailable   = 0x80370114
	codeOperationTimeout     = 0x80370118
	codeServiceDisconnect    = 0x8037011E
	codeProcessStopped       = 0x8037011F
	codeElementNotFound      = 0x490 // ERROR_NOT_FOUND
	codeElementNotFoundHR    = 0x80070490
	codeAlreadyExists        = 0xB7 // ERROR_ALREADY_EXISTS
	codeAlreadyExistsHR      = 0x800700B7
	codeBusy                 = 0xAA // ERROR_BUSY
	codeBusyHR               = 0x800700AA
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
	Code           uint32
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
	case codeImageMismatch, codeImageMismatchHR, codeHyperVNotInstalled, codeHyperVNotInstalledNT:
		return driver.ErrIncompatible
	case codeAlreadyStopped, codeAlreadyStoppedHR, codeProcessStopped:
		return errAlreadyStopped
	case codeOperationPending, codeOperationPendingHR, codeInvalidState, codeInvalidStateHR,
		codeConnectFailed, codeConnectionTimeout, codeConnectionTimeoutHR, codeConnectionClosed,
		codeServiceUnavailable, codeOperationTimeout, codeServiceDisconnect, codeBusy, codeBusyHR:
		return driver.ErrTransient
	}
	return nil
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

// hcsError wraps err from operation op with its class, so callers can test
// it with errors.Is while the message keeps the host's own words (HCS's text
// and code). HCS's error types are not wrapped: they never leak upward.
func hcsError(op string, err error, f hcsFailure) error {
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
