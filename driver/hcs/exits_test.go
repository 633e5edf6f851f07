package hcs

import (
	"reflect"
	"testing"
)

func TestExitTracker(t *testing.T) {
	tr := newExitTracker()
	var notified []string
	tr.subscribe(func(id string) { notified = append(notified, id) })
	if !tr.begin("a") || tr.begin("a") {
		t.Fatal("begin(a) twice: want true then false")
	}
	tr.exited("a", 3, true)
	if code, ok := tr.exitCode("a"); !ok || code != 3 {
		t.Errorf("exitCode(a) = %d, %v; want 3, true", code, ok)
	}
	if !tr.begin("a") {
		t.Error("begin(a) after its exit = false, want a new watch allowed")
	}
	tr.exited("b", 0, false)
	if _, ok := tr.exitCode("b"); ok {
		t.Error("exitCode(b) known, want unknown")
	}
	tr.forget("a")
	if _, ok := tr.exitCode("a"); ok {
		t.Error("exitCode(a) after forget still known")
	}
	tr.subscribe(nil)
	tr.exited("c", 1, true)
	if want := []string{"a", "b"}; !reflect.DeepEqual(notified, want) {
		t.Errorf("notified %v, want %v (nothing after unsubscribing)", notified, want)
	}
}

func TestAdoptionOf(t *testing.T) {
	const pid = 4242
	running := []processListItem{{ProcessID: 4, ImageName: "System"}, {ProcessID: pid, ImageName: "ping.exe"}}
	without := []processListItem{{ProcessID: 4, ImageName: "System"}, {ProcessID: 1212, ImageName: "CExecSvc.exe"}}
	fail := func(f hcsFailure) *hcsFailure { return &f }
	tests := []struct {
		name   string
		pid    uint32
		open   *hcsFailure
		listed []processListItem
		listOK bool
		want   adoption
	}{
		{"no recorded process: watch the system", 0, nil, nil, false, adoptWatchSystem},
		{"process opened", pid, nil, nil, false, adoptWatchProcess},
		{"ERROR_NOT_FOUND: gone", pid, fail(hcsFailure{Code: 0x80070490}), nil, false, adoptProcessGone},
		{"process already stopped: gone", pid, fail(hcsFailure{Code: 0x8037011F}), nil, false, adoptProcessGone},
		{"hcsshim's not-exist predicate: gone", pid, fail(hcsFailure{NotExist: true}), nil, false, adoptProcessGone},
		{"unknown failure, the list lacks it: gone", pid, fail(hcsFailure{Code: 0x80070057}), without, true, adoptProcessGone},
		{"unknown failure, the list has it: retry", pid, fail(hcsFailure{Code: 0x80070057}), running, true, adoptRetry},
		{"unknown failure, no list: retry", pid, fail(hcsFailure{Code: 0x80070005}), nil, false, adoptRetry},
		{"timeout, no list: retry", pid, fail(hcsFailure{Timeout: true}), nil, false, adoptRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := adoptionOf(tt.pid, tt.open, tt.listed, tt.listOK); got != tt.want {
				t.Errorf("adoptionOf = %d, want %d", got, tt.want)
			}
		})
	}
}
