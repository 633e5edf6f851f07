//go:build !windows

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAgainstANamedPipe: a named pipe as --against is refused at once,
// never read (the read would wait for a writer forever).
func TestAgainstANamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "status.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	_, err := runSim(t, filepath.Join(dir, "host.json"), "reconcile", "--dry-run", "--against", fifo, "../../examples/manifests")
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("--against a named pipe = %v, want a refusal", err)
	}
}
