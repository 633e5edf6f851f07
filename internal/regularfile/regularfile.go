// Package regularfile reads the small files an operator names on the
// command line (tokens, secrets, keys, snapshots) without ever blocking on
// something that is not a file: a named pipe, a device or a directory is
// refused before a byte is read.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular: the path names a named pipe, a device, a socket or a
// directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge: the file is larger than the caller allows.
var ErrTooLarge = errors.New("file too large")

// Read returns the content of the regular file at path, refusing anything
// else (ErrNotRegular, naming what it is) and a file larger than max bytes
// (ErrTooLarge). The file is opened without blocking (on Unix, a FIFO put
// in its place after the check does not block the open) and checked again
// once open, so a swap between the two checks is refused too.
func Read(path string, max int64) ([]byte, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", path, ErrTooLarge, max)
	}
	return b, nil
}

// Check returns nil when path names a regular file (symbolic links
// followed), the error of os.Stat when it names nothing, and
// ErrNotRegular otherwise.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return notRegular(path, st.Mode())
	}
	return nil
}

func notRegular(path string, m os.FileMode) error {
	return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(m))
}

// kind names a file mode's type in words.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	default:
		return m.Type().String()
	}
}
