//go:build unix

package regularfile

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFIFO: a named pipe with no writer is refused at once; reading it
// would block forever.
func TestReadFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := Read(fifo, 64)
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a named pipe") {
		t.Fatalf("Read(fifo) = %v, want ErrNotRegular naming a named pipe", err)
	}
}
