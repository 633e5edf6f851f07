package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// describeFSError is err without the path an *fs.PathError repeats.
func describeFSError(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Ignored reports whether a base name (file or folder) is skipped when
// loading a folder: dotfiles and dot-folders, and editor leftovers (*~,
// *.swp, #*#, *.tmp).
func Ignored(base string) bool {
	lower := strings.ToLower(base)
	return strings.HasPrefix(base, ".") ||
		strings.HasSuffix(base, "~") ||
		strings.HasSuffix(lower, ".swp") ||
		strings.HasSuffix(lower, ".tmp") ||
		len(base) >= 2 && base[0] == '#' && base[len(base)-1] == '#'
}

// IsManifest reports whether a base name is a manifest file: *.yaml or
// *.yml (any case) and not Ignored.
func IsManifest(base string) bool {
	ext := filepath.Ext(base)
	return (strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml")) && !Ignored(base)
}

// ManifestFiles returns the manifest files under root, recursively, sorted,
// skipping ignored files and folders. Every entry named like a manifest
// that is not a folder is listed, whatever it is (a link, a named pipe):
// reading it says what is wrong (see ReadManifest). Links to folders are
// not followed. A root that is a file is
// returned as is, whatever its name: it was named explicitly.
//
// A missing or unreadable root, or a folder below it that cannot be
// listed, is an error that unwraps to the fs error (errors.Is(err,
// fs.ErrNotExist), fs.ErrPermission): an incomplete list must not pass for
// the desired set.
func ManifestFiles(root string) ([]string, error) {
	w, err := walkManifests(root)
	if err != nil {
		return nil, err
	}
	if len(w.unreadable) > 0 {
		errs := make([]error, len(w.unreadable))
		for i, e := range w.unreadable {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return w.files, nil
}

// manifestWalk is what walkManifests found.
type manifestWalk struct {
	files []string
	// dir is true when the root is a folder.
	dir bool
	// unreadable are the folders below the root that could not be listed.
	unreadable []*pathError
}

// walkManifests lists the manifest files under root; the error is for the
// root alone.
func walkManifests(root string) (manifestWalk, error) {
	st, err := os.Stat(root)
	if err != nil {
		return manifestWalk{}, &pathError{path: root, err: err}
	}
	if !st.IsDir() {
		return manifestWalk{files: []string{root}}, nil
	}
	w := manifestWalk{dir: true}
	// A root reached through a symbolic link is walked where it points
	// (WalkDir would not enter it), and its files are named under root.
	walkRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return manifestWalk{}, &pathError{path: root, err: err}
	}
	err = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
		isRoot := path == walkRoot
		if rel, relErr := filepath.Rel(walkRoot, path); relErr == nil {
			path = filepath.Join(root, rel)
		}
		switch {
		case err != nil && isRoot:
			return &pathError{path: root, err: err}
		case err != nil:
			w.unreadable = append(w.unreadable, &pathError{path: path, err: err})
			return nil
		case isRoot:
			return nil
		case Ignored(d.Name()) && d.IsDir():
			return filepath.SkipDir
		case d.IsDir() || !IsManifest(d.Name()):
			return nil
		}
		// Anything else named like a manifest is listed, whatever it is:
		// reading a link to a folder, a named pipe or a dangling link
		// reports the problem, which holds removals (a manifest that
		// cannot be read must never read as one that was deleted). Links
		// to folders are not followed.
		w.files = append(w.files, path)
		return nil
	})
	if err != nil {
		return manifestWalk{}, err
	}
	slices.Sort(w.files)
	return w, nil
}

// pathError is a manifest path that cannot be read; it unwraps to the fs
// error.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string {
	what, missing := "folder", "no such directory"
	if IsManifest(filepath.Base(e.path)) {
		what, missing = "file", "no such file"
	}
	reason := describeFSError(e.err)
	if errors.Is(e.err, fs.ErrNotExist) {
		reason = missing
	}
	return fmt.Sprintf("manifest %s %s: %s", what, e.path, reason)
}

func (e *pathError) Unwrap() error { return e.err }
