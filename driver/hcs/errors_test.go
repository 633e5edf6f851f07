package hcs

import (
	"errors"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
)

func TestClassOfCode(t *testing.T) {
	tests := []struct {
		name string
		code uint32
		want error
	}{
		{"image mismatch (vmcompute)", 0xC0370101, driver.ErrIncompatible},
		{"image mismatch (HRESULT)", 0x80370101, driver.ErrIncompatible},
		{"Hyper-V not installed", 0x80370102, driver.ErrIncompatible},
		{"system does not exist", 0xC037010E, driver.ErrNotFound},
		{"HCS_E_SYSTEM_NOT_FOUND", 0x8037010E, driver.ErrNotFound},
		{"ERROR_NOT_FOUND", 0x490, driver.ErrNotFound},
		{"system already exists", 0xC037010F, driver.ErrAlreadyExists},
		{"ERROR_ALREADY_EXISTS", 0xB7, driver.ErrAlreadyExists},
		{"operation pending", 0xC0370103, driver.ErrTransient},
		{"operation timeout", 0x80370118, driver.ErrTransient},
		{"connection timeout", 0xC0370109, driver.ErrTransient},
		{"service disconnect", 0x8037011E, driver.ErrTransient},
		{"invalid state", 0xC0370105, driver.ErrTransient},
		{"already stopped", 0xC0370110, errAlreadyStopped},
		{"process already stopped", 0x8037011F, errAlreadyStopped},
		{"invalid JSON", 0xC037010D, nil},
		{"access denied", 0x5, nil},
		{"no code", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classOfCode(tt.code); got != tt.want {
				t.Errorf("classOfCode(%#x) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestFailureClass(t *testing.T) {
	tests := []struct {
		name string
		f    hcsFailure
		want error
	}{
		{"predicate not exist", hcsFailure{NotExist: true}, driver.ErrNotFound},
		{"predicate pending", hcsFailure{Pending: true}, driver.ErrTransient},
		{"predicate timeout", hcsFailure{Timeout: true}, driver.ErrTransient},
		{"predicate already stopped", hcsFailure{AlreadyStopped: true}, errAlreadyStopped},
		{"code wins over predicates", hcsFailure{Code: 0xC0370101, Timeout: true}, driver.ErrIncompatible},
		{"ERROR_NOT_FOUND is both to hcsshim; not found here", hcsFailure{Code: 0x490, NotExist: true, AlreadyStopped: true}, driver.ErrNotFound},
		{"unknown code falls back to predicates", hcsFailure{Code: 0x12345, NotExist: true}, driver.ErrNotFound},
		{"nothing", hcsFailure{Code: 0xC037010D}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.class(); got != tt.want {
				t.Errorf("%+v.class() = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

// hcsLikeError stands for an hcsshim error: a type of HCS's own that must
// not leak through the driver's errors.
type hcsLikeError struct{ msg string }

func (e *hcsLikeError) Error() string { return e.msg }

func TestHCSError(t *testing.T) {
	cause := &hcsLikeError{"container web_v1-x encountered an error during hcs::System::Start: The operating system of the container does not match the operating system of the host. (0xc0370101)"}
	tests := []struct {
		name      string
		f         hcsFailure
		wantClass error
	}{
		{"classified", hcsFailure{Code: 0xC0370101}, driver.ErrIncompatible},
		{"permanent", hcsFailure{Code: 0xC037010D}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hcsError("start compute system", cause, tt.f)
			if tt.wantClass != nil && !errors.Is(err, tt.wantClass) {
				t.Errorf("%v does not wrap %v", err, tt.wantClass)
			}
			for _, class := range []error{driver.ErrNotFound, driver.ErrAlreadyExists, driver.ErrIncompatible, driver.ErrTransient} {
				if class != tt.wantClass && errors.Is(err, class) {
					t.Errorf("%v wraps %v too", err, class)
				}
			}
			var leaked *hcsLikeError
			if errors.As(err, &leaked) {
				t.Errorf("%v lets the HCS error type leak", err)
			}
			if !strings.HasPrefix(err.Error(), "start compute system: ") || !strings.Contains(err.Error(), "(0xc0370101)") {
				t.Errorf("message %q lost the operation or the host's own words", err)
			}
		})
	}
}

func TestErrnoFromHRESULT(t *testing.T) {
	tests := []struct {
		name     string
		r        uintptr
		wantCode uint32
		wantFail bool
	}{
		{"S_OK", 0, 0, false},
		{"S_FALSE", 1, 0, false},
		{"HCS code stays", 0xC0370101, 0xC0370101, true},
		{"HCS HRESULT stays", 0x80370118, 0x80370118, true},
		{"FACILITY_WIN32 becomes the Win32 code", 0x80070490, 0x490, true},
		{"E_ACCESSDENIED", 0x80070005, 0x5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, failed := errnoFromHRESULT(tt.r)
			if code != tt.wantCode || failed != tt.wantFail {
				t.Errorf("errnoFromHRESULT(%#x) = %#x, %v; want %#x, %v", tt.r, code, failed, tt.wantCode, tt.wantFail)
			}
		})
	}
}
