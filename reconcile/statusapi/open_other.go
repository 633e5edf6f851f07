//go:build !windows

package statusapi

import (
	"os"
	"syscall"
)

// openNoBlock opens file for reading without blocking on a FIFO (which
// ReadSecretFile then refuses).
func openNoBlock(file string) (*os.File, error) {
	return os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
