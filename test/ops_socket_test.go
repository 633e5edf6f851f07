//go:build !windows

package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// TestSuspendOnTheOwnerOnlySocket: on a unix:// --listen the agent's
// socket is its owner's only (0600), and suspend and resume need no
// token there.
func TestSuspendOnTheOwnerOnlySocket(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process"))
	// Unix socket paths are short (108 bytes): not under t.TempDir's long name.
	sockDir, err := os.MkdirTemp("", "rcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	addr := "unix://" + filepath.Join(sockDir, "api.sock")
	a := e.start("--dir", dir, "--listen", addr)
	if got := a.waitLog("listening")["address"]; got != addr {
		t.Errorf("listening on %v, want %s", got, addr)
	}
	e.eventually("web runs", hostIs(map[string]string{"web": "process"}))
	info, err := os.Stat(filepath.Join(sockDir, "api.sock"))
	if err != nil || info.Mode().Perm() != 0o600 || info.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket %v, %v; want a socket with mode 0600", info.Mode(), err)
	}
	out, err := e.run("suspend", "--agent", addr, "-o", "json")
	if err != nil || !strings.Contains(out, `"suspended": true`) {
		t.Fatalf("suspend on the socket: %q, %v", out, err)
	}
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "hyperv"))
	a.waitLogs("a suspended pass plans web's recreate",
		func(l map[string]any) bool {
			return l["msg"] == "pass done" && l["suspended"] == true && l["recreated"] == 1.0
		})
	if m := e.systems(); m["web"].Isolation != "process" {
		t.Fatalf("a suspended agent applied: web is %s", m["web"].Isolation)
	}
	if _, err := e.run("resume", "--agent", addr); err != nil {
		t.Fatal(err)
	}
	e.eventually("web is recreated with hyperv", hostIs(map[string]string{"web": "hyperv"}))
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(sockDir, "api.sock")); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the agent: %v", err)
	}
}
