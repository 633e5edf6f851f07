package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The one-agent-per-owner lock of the emulated host is keyed on the state
// file itself: an agent reaching the state through a symlink contends with
// one using the real path.
func TestLockAgentThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "host.json")
	link := filepath.Join(dir, "link.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	first := &globals{driver: "sim", simState: real, owner: "team:a"}
	l, err := first.lockAgent()
	if err != nil {
		t.Fatalf("first agent: %v", err)
	}
	defer l.Unlock()

	second := &globals{driver: "sim", simState: link, owner: "team:a"}
	if l2, err := second.lockAgent(); err == nil {
		l2.Unlock()
		t.Fatal("a second agent of the same owner got the lock through a symlink")
	} else if !strings.Contains(err.Error(), "another reconciler already manages") {
		t.Errorf("second agent: %v, want it to say another reconciler manages the owner", err)
	}

	other := &globals{driver: "sim", simState: link, owner: "team:b"}
	l3, err := other.lockAgent()
	if err != nil {
		t.Fatalf("another owner's agent: %v", err)
	}
	l3.Unlock()
}
