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
