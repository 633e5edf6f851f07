package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// stateFileName is the state file's name inside the per-user state folder.
const stateFileName = "sim-host.json"

// DefaultStatePath returns where the emulated host's state lives when the
// user names no file: $XDG_STATE_HOME/reconciler/sim-host.json, else
// ~/.local/state/reconciler/sim-host.json; on Windows
// %LocalAppData%\reconciler\sim-host.json. It does not create anything.
func DefaultStatePath() (string, error) {
	return defaultStatePath(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func defaultStatePath(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if goos == "windows" {
		dir := getenv("LocalAppData")
		if dir == "" {
			return "", errors.New("default sim state path: LocalAppData is not set")
		}
		return filepath.Join(dir, "reconciler", stateFileName), nil
	}
	if dir := getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "reconciler", stateFileName), nil
	}
	h, err := home()
	if err != nil {
		return "", errors.New("default sim state path: neither XDG_STATE_HOME nor a home directory is set")
	}
	return filepath.Join(h, ".local", "state", "reconciler", stateFileName), nil
}

// maxLinks bounds the symbolic links ResolveStatePath follows, as the
// kernel bounds them (Linux's MAXSYMLINKS is 40).
const maxLinks = 40

// ResolveStatePath returns the absolute path of the state file that path
// leads to, with every symbolic link resolved, even when the file does not
// exist yet (a dangling link resolves to its target); it creates the
// target's missing parent folders. Every path to one state resolves to one
// path, so that locks keyed on it (the state's own and the agent's) are
// one lock whichever way a command names the state.
func ResolveStatePath(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for range maxLinks {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return real, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", path, err)
		}
		target, err := os.Readlink(p)
		if err != nil {
			// p itself does not exist: resolve its folder.
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return "", err
			}
			dir, err := filepath.EvalSymlinks(filepath.Dir(p))
			if err != nil {
				return "", fmt.Errorf("resolve %s: %w", path, err)
			}
			return filepath.Join(dir, filepath.Base(p)), nil
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return "", fmt.Errorf("resolve %s: more than %d symbolic links", path, maxLinks)
}
