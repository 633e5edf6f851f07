//go:build !windows

package spec

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without blocking: a named pipe
// opens at once instead of waiting for a writer.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
