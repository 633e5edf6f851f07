//go:build !windows

package statusapi

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap/zaptest"
)

// TestUnixSocketIsOwnerOnly: the API on a unix socket is created 0600
// (never reachable by others, not even briefly: it is bound in a private
// folder first), takes suspend without a token, replaces a stale socket,
// refuses one in use, and removes its socket on Close.
func TestUnixSocketIsOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "api.sock")
	// A stale socket, as a crash leaves it.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	sp, err := LoadSuspension(filepath.Join(dir, "suspended.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Options{Status: NewStatus(nil, fakeDriver{}, nil), Approver: &fakeApprover{}, Suspension: sp, OwnerOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen("unix://"+sock, h, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(sock)
	if err != nil || info.Mode().Type() != os.ModeSocket || info.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v; want a socket, mode 0600", info.Mode(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".reconciler-sock-*")); len(leftovers) != 0 {
		t.Errorf("private folders left: %v", leftovers)
	}
	if _, err := Listen("unix://"+sock, h, nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second Listen on the socket in use: %v, want it refused", err)
	}

	client, base, err := NewClient("unix://"+sock, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := RequestSuspension(context.Background(), client, base, true, "maintenance")
	if err != nil || !st.Suspended || st.Reason != "maintenance" || !sp.Suspended() {
		t.Errorf("suspend over the socket: %+v, %v; want suspended", st, err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket still there after Close: %v", err)
	}
}

// TestReadSecretFileRefusesAFIFO: a FIFO named as a token file is refused
// at once, not waited on (nothing ever writes to it).
func TestReadSecretFileRefusesAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := ReadSecretFile("API token", fifo); err == nil || !strings.Contains(err.Error(), ErrNotRegular.Error()) {
		t.Errorf("ReadSecretFile of a FIFO: %v, want %v", err, ErrNotRegular)
	}
}
