//go:build !windows

package atomicfile

import "os"

// Private reports whether path is readable by its owner only: its mode
// gives group and others nothing, as WriteFile sets it for a private perm.
func Private(path string) (bool, error) {
	info, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return info.Mode().Perm()&0o077 == 0, nil
}
