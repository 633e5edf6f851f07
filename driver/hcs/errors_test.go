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
		{"no hypervisor present", 0xC0351000, driver.ErrIncompatible},
		{"required feature not installed is permanent", 0x80370114, nil},
		{"ERROR_NOT_SUPPORTED alone is permanent", 0x32, nil},
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
		{"ERROR_NOT_SUPPORTED on a Hyper-V create", hcsFailure{Code: 0x32, HyperVCreate: true}, driver.ErrIncompatible},
		{"ERROR_NOT_SUPPORTED elsewhere", hcsFailure{Code: 0x32}, nil},
		{"feature missing even while pending", hcsFailure{Code: 0x80370114, HyperVCreate: true}, nil},
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

// TestHCSErrorHostSetup feeds the texts hcsshim reports for a host that
// lacks a feature or a hypervisor (the format of hcsshim's ContainerError,
// "container ID encountered an error during OP: failure in a Windows system
// call: TEXT (0xCODE)", as quoted in moby and navcontainerhelper bug
// reports) and checks the class and that the message says what to do
// while keeping the host's own words.
func TestHCSErrorHostSetup(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		f         hcsFailure
		wantClass error
		wantHint  string
	}{
		{"no hypervisor",
			"container web_v1-x encountered an error during hcsshim::CreateComputeSystem: failure in a Windows system call: No hypervisor is present on this system. (0xc0351000)",
			hcsFailure{Code: 0xC0351000, HyperVCreate: true}, driver.ErrIncompatible, "bcdedit /set hypervisorlaunchtype auto"},
		{"not supported on a Hyper-V create",
			"container web_v1-x encountered an error during hcsshim::CreateComputeSystem: failure in a Windows system call: The request is not supported. (0x32)",
			hcsFailure{Code: 0x32, HyperVCreate: true}, driver.ErrIncompatible, "isolation: process"},
		{"not supported elsewhere has no hint",
			"container web_v1-x encountered an error during hcsshim::System::CreateProcess: failure in a Windows system call: The request is not supported. (0x32)",
			hcsFailure{Code: 0x32}, nil, ""},
		{"required feature not installed",
			"container web_v1-x encountered an error during hcsshim::CreateComputeSystem: failure in a Windows system call: A required feature is not installed. (0x80370114)",
			hcsFailure{Code: 0x80370114}, nil, "Enable-WindowsOptionalFeature -Online -FeatureName Containers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hcsError("create compute system", &hcsLikeError{tt.text}, tt.f)
			for _, class := range []error{driver.ErrNotFound, driver.ErrAlreadyExists, driver.ErrIncompatible, driver.ErrTransient} {
				if got := errors.Is(err, class); got != (class == tt.wantClass) {
					t.Errorf("errors.Is(%v, %v) = %v", err, class, got)
				}
			}
			msg := err.Error()
			_, hostText, _ := strings.Cut(tt.text, "failure in a Windows system call: ")
			if !strings.HasPrefix(msg, "create compute system: ") || !strings.Contains(msg, hostText) {
				t.Errorf("message %q lost the operation or the host's words %q", msg, hostText)
			}
			if tt.wantHint == "" {
				if h := hintOfCode(tt.f.Code, tt.f.HyperVCreate); h != "" {
					t.Errorf("unexpected hint %q", h)
				}
			} else if !strings.Contains(msg, tt.wantHint) {
				t.Errorf("message %q does not tell the operator %q", msg, tt.wantHint)
			}
		})
	}
}

func TestEndsStop(t *testing.T) {
	tests := []struct {
		name string
		f    hcsFailure
		want bool
	}{
		{"unexpected exit from a wait (0xC0370106)", hcsFailure{Code: 0xC0370106}, true},
		{"unexpected exit as HRESULT", hcsFailure{Code: 0x80370106}, true},
		{"system already stopped", hcsFailure{Code: 0xC0370110}, true},
		{"process already stopped", hcsFailure{Code: 0x8037011F}, true},
		{"hcsshim's already-stopped predicate", hcsFailure{AlreadyStopped: true}, true},
		{"wait timed out", hcsFailure{Code: 0x80370118, Timeout: true}, false},
		{"system not found is not proof of a stop", hcsFailure{Code: 0xC037010E}, false},
		{"access denied", hcsFailure{Code: 0x5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.endsStop(); got != tt.want {
				t.Errorf("%+v.endsStop() = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
	// From Start the same code is a failure with the host's words, not a
	// class: microsoft/hcsshim#598's "The compute system exited
	// unexpectedly. (0xc0370106)".
	if c := classOfCode(0xC0370106); c != nil {
		t.Errorf("classOfCode(0xC0370106) = %v, want nil (permanent)", c)
	}
}

func TestHCSUnavailable(t *testing.T) {
	feature := []string{
		"Enable-WindowsOptionalFeature -Online -FeatureName Containers",
		"Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V",
		"reboot",
	}
	without := []string{"--driver sim", "reconciler validate --host-os"}
	tests := []struct {
		name string
		code uint32
		err  error
		want []string
		not  []string
	}{
		{"vmcompute.dll missing (no Containers feature)", 0,
			errors.New("vmcompute.dll: Failed to load vmcompute.dll: The specified module could not be found."),
			append(append([]string{"vmcompute.dll"}, feature...), without...), nil},
		{"HCS_E_SERVICE_NOT_AVAILABLE", 0x80370114,
			errors.New("A required feature is not installed."),
			append(feature, without...), nil},
		{"not elevated", 0x80070005, errors.New("Access is denied."),
			append([]string{"administrator"}, without...), []string{"Enable-WindowsOptionalFeature"}},
		{"service stopped", 0x800706BA, errors.New("The RPC server is unavailable."),
			append(append([]string{"Start-Service vmcompute"}, feature...), without...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := hcsUnavailable(tt.code, tt.err).Error()
			if !strings.Contains(msg, tt.err.Error()) {
				t.Errorf("message %q drops the host's words %q", msg, tt.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(msg, w) {
					t.Errorf("message %q says %q, which does not apply", msg, w)
				}
			}
		})
	}
}
