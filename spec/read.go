package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/reconciler/reconciler/internal/regularfile"
)

// ErrNotRegular is the class of a manifest path that exists but is not a
// regular file: a folder, a named pipe, a device, a socket, or a link to
// one of them. Such a path is never opened (opening a named pipe blocks
// until something writes to it).
var ErrNotRegular = regularfile.ErrNotRegular

// notRegularError says what a manifest path is instead of a regular file.
type notRegularError struct {
	what string
}

func (e *notRegularError) Error() string {
	return fmt.Sprintf("not a regular file: it is %s; a manifest must be a regular file (replace it with one, or delete it to remove what it declared)", e.what)
}

func (e *notRegularError) Is(target error) bool { return target == ErrNotRegular }

// ReadManifest reads the manifest file at path, up to one byte over
// MaxFileSize (enough for Parse to refuse it), and returns what it stat'ed.
// It refuses with ErrNotRegular, before opening it, a path that is not a
// regular file, and checks again on the opened file, which is opened
// without blocking: a named pipe swapped in between is refused, not waited
// on.
func ReadManifest(path string) (fs.FileInfo, []byte, error) {
	f, st, err := regularfile.Open(path)
	if nr := (*regularfile.NotRegularError)(nil); errors.As(err, &nr) {
		return nil, nil, &notRegularError{what: nr.What}
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := readLimited(f, st.Size())
	if err != nil {
		return nil, nil, err
	}
	return st, data, nil
}

// readLimited reads r to its end, or to one byte over MaxFileSize (enough
// to refuse it), into a buffer of size+1 bytes to begin with: a file of the
// size it was stat'ed with is read in one buffer, its end seen without
// growing it. size 0 is unknown.
func readLimited(r io.Reader, size int64) ([]byte, error) {
	const limit = MaxFileSize + 1
	if size <= 0 {
		size = 511
	}
	data := make([]byte, 0, min(size, limit-1)+1)
	for len(data) < limit {
		if len(data) == cap(data) {
			data = slices.Grow(data, min(cap(data), limit-len(data)))
		}
		n, err := r.Read(data[len(data):min(cap(data), limit)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

// readManifestFallback is readManifestData through ReadManifest.
func readManifestFallback(path string) (int64, []byte, error) {
	st, data, err := ReadManifest(path)
	if err != nil {
		return 0, nil, err
	}
	return st.Size(), data, nil
}
