//go:build linux

package spec

import (
	"io"
	"io/fs"
	"syscall"
)

// readManifestData is ReadManifest for a caller that needs only the
// content and its size, as Load does for every file: the same checks (a
// path that is not a regular file is refused before it is opened, and
// again once open; the open never blocks), made with system calls on
// stack buffers rather than through os.File, which would register each
// file with the network poller and allocate its FileInfo twice. Anything
// that is not a regular file is left to ReadManifest, so that the problem
// is worded as it words it.
func readManifestData(path string) (int64, []byte, error) {
	var st syscall.Stat_t
	if err := retryEINTR(func() error { return syscall.Stat(path, &st) }); err != nil {
		return 0, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return readManifestFallback(path)
	}
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return 0, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	if err := syscall.Fstat(fd, &st); err != nil {
		return 0, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		// Swapped since the first look.
		return readManifestFallback(path)
	}
	data, err := readLimited(fdReader(fd), st.Size)
	if err != nil {
		return 0, nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return st.Size, data, nil
}

// fdReader reads an open file descriptor.
type fdReader int

func (fd fdReader) Read(p []byte) (int, error) {
	var n int
	err := retryEINTR(func() (err error) {
		n, err = syscall.Read(int(fd), p)
		return err
	})
	switch {
	case err != nil:
		return 0, err
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// retryEINTR calls fn until it is not interrupted by a signal.
func retryEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}
