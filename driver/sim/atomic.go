package sim

import (
	"io/fs"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// writeFileAtomic replaces path with data so that a reader or a crash sees
// the old state or the new, never a mix (see atomicfile.WriteFile).
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	return atomicfile.WriteFile(path, data, perm)
}
