//go:build windows

package statusapi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// TestNamedPipe: the API on a named pipe (created with pipeSDDL) takes
// suspend without a token, and a second agent cannot take the pipe.
func TestNamedPipe(t *testing.T) {
	addr := fmt.Sprintf("npipe:////./pipe/reconciler-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	sp, err := LoadSuspension(filepath.Join(t.TempDir(), "s.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Options{Status: NewStatus(nil, fakeDriver{}, nil), Approver: &fakeApprover{}, Suspension: sp, OwnerOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(addr, h, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client, base, err := NewClient(addr, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := RequestSuspension(context.Background(), client, base, true, "patching")
	if err != nil || !st.Suspended || !sp.Suspended() {
		t.Errorf("suspend over the pipe: %+v, %v; want suspended", st, err)
	}
	if second, err := Listen(addr, h, nil); err == nil {
		second.Close()
		t.Error("a second Listen on the pipe in use succeeded")
	}
}
