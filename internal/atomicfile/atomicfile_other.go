//go:build !windows

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// WriteFile replaces path with data: a temporary file beside it is
// written, fsync'd and renamed over path (renameio), then the directory is
// fsync'd so the rename itself survives a crash.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if err := renameio.WriteFile(path, data, perm); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
