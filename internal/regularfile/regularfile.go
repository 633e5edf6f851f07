// Package regularfile reads the small files an operator names (manifests,
// tokens, secrets, keys, snapshots) without ever blocking on something that
// is not a file: a named pipe, a device or a folder is refused before a
// byte is read.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular: the path names a named pipe, a device, a socket or a
// folder (or a link to one).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge: the file is larger than the caller allows.
var ErrTooLarge = errors.New("file too large")

// NotRegularError says what a path is instead of a regular file.
type NotRegularError struct {
	Path string
	// What names it for a person: "a folder", "a symbolic link to a named
	// pipe (FIFO)".
	What string
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: %v: it is %s", e.Path, ErrNotRegular, e.What)
}

// Is makes it an ErrNotRegular.
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// Open opens the regular file at path (symbolic links followed) for
// reading, and returns it with what the open file stat'ed. Anything else
// is refused with a *NotRegularError before it is opened; the file is
// opened without blocking (on Unix, a FIFO put in its place after the
// check does not block the open) and checked again once open, so a swap
// between the two checks is refused too. Errors of os.Stat are returned
// as they are.
func Open(path string) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		what := Describe(st.Mode())
		if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			what = "a symbolic link to " + what
		}
		return nil, nil, &NotRegularError{Path: path, What: what}
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, What: Describe(st.Mode())}
	}
	return f, st, nil
}

// Read returns the content of the regular file at path (see Open),
// refusing a file larger than max bytes (ErrTooLarge).
func Read(path string, max int64) ([]byte, error) {
	f, _, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (more than %d bytes)", path, ErrTooLarge, max)
	}
	return b, nil
}

// Describe names a kind of file for a person.
func Describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "a special file (mode " + m.Type().String() + ")"
	}
}

// Check returns nil when path names a regular file, as Open finds it.
func Check(path string) error {
	f, _, err := Open(path)
	if err == nil {
		f.Close()
	}
	return err
}
