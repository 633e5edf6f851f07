//go:build windows

package statusapi

import "os"

// openNoBlock opens file for reading. Opening a named pipe's path does not
// block on Windows (and ReadSecretFile refuses what is not a regular file).
func openNoBlock(file string) (*os.File, error) { return os.Open(file) }
