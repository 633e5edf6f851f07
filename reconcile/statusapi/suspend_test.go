package statusapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

func TestSuspensionPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.suspended.json")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	changes := 0
	sp, err := LoadSuspension(path, func() time.Time { return at }, func() { changes++ })
	if err != nil || sp.Suspended() {
		t.Fatalf("no file: %+v, %v; want not suspended", sp.State(), err)
	}
	st, err := sp.Suspend("patching")
	if err != nil || st != (SuspensionState{Suspended: true, Since: at, Reason: "patching"}) || changes != 1 {
		t.Fatalf("Suspend: %+v, %v (%d changes)", st, err, changes)
	}
	if private, err := atomicfile.Private(path); err != nil || !private {
		t.Errorf("suspension file private: %v, %v; want owner-only", private, err)
	}
	// Suspending again keeps the first since and reason, and changes nothing.
	if st, _ := sp.Suspend("again"); st.Reason != "patching" || changes != 1 {
		t.Errorf("a second Suspend: %+v (%d changes), want the first kept", st, changes)
	}
	// A restart reads it back.
	again, err := LoadSuspension(path, nil, nil)
	if err != nil || again.State() != st {
		t.Errorf("reloaded: %+v, %v; want %+v", again.State(), err, st)
	}
	if st, err := again.Resume(); err != nil || st.Suspended {
		t.Errorf("Resume: %+v, %v", st, err)
	}
	if reloaded, err := LoadSuspension(path, nil, nil); err != nil || reloaded.Suspended() {
		t.Errorf("reloaded after resume: %+v, %v; want not suspended", reloaded.State(), err)
	}
}

func TestSuspensionErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSuspension(bad, nil, nil); err == nil || !strings.Contains(err.Error(), "delete it to resume") {
		t.Errorf("a corrupt file: %v, want an error saying how to resume", err)
	}
	// A state that cannot be written stays as it was.
	sp, err := LoadSuspension(filepath.Join(dir, "missing", "s.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := sp.Suspend("x"); err == nil || st.Suspended || sp.Suspended() {
		t.Errorf("Suspend that cannot persist: %+v, %v; want an error and not suspended", st, err)
	}
}
