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
// fsync'd so the rename itself survives a crash. The file gets perm (less
// the umask) whether or not it existed: a private perm makes a file that
// was readable by others private.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	// Not renameio.WriteFile, which keeps an existing file's permissions.
	f, err := renameio.NewPendingFile(path, renameio.WithPermissions(perm))
	if err != nil {
		return err
	}
	defer f.Cleanup()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
