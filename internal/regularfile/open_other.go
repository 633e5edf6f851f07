//go:build !unix

package regularfile

import "os"

// openFlags: off Unix, opening a file does not wait for a writer.
const openFlags = os.O_RDONLY
