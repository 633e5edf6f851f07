package sim

import (
	"errors"
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
