package test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testfixture"
)

// runExit runs the binary against the env's state and returns its stdout,
// stderr and exit code.
func (e *env) runExit(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(binary, append([]string{"--sim-state", e.state}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		e.t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// A deleted or truncated journal or state file is an error that names the
// file, exit 1, for status and reconcile alike: never an empty host, never
// a create of what already runs, and nothing written to the broken state.
// Put back, the host is as it was.
func TestDamagedSimStateRefused(t *testing.T) {
	e := newEnv(t)
	manifests := t.TempDir()
	for _, name := range []string{"web", "api"} {
		write(t, filepath.Join(manifests, name+".yaml"), testfixture.Manifest(name, ltsc2022, "process"))
	}
	if _, err := e.run("reconcile", manifests); err != nil {
		t.Fatal(err)
	}
	if _, err := e.run("sim", "create", "iis", "--image", ltsc2022); err != nil {
		t.Fatal(err)
	}
	journal := e.state + ".journal"
	tests := []struct {
		name   string
		file   string
		damage func(path string) error
	}{
		{name: "journal deleted", file: journal, damage: os.Remove},
		{name: "journal truncated", file: journal, damage: func(p string) error { return os.Truncate(p, 0) }},
		{name: "journal cut short", file: journal, damage: func(p string) error { return cutLastLine(p) }},
		{name: "state file deleted", file: e.state, damage: os.Remove},
		{name: "state file truncated", file: e.state, damage: func(p string) error { return os.Truncate(p, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{t: t, state: e.state}
			good := snapshotFiles(t, e.state)
			if err := tt.damage(tt.file); err != nil {
				t.Fatal(err)
			}
			damaged := snapshotFiles(t, e.state)
			for _, args := range [][]string{
				{"status"},
				{"status", "-o", "json"},
				{"reconcile", manifests},
				{"reconcile", "--detailed-exitcode", manifests},
				{"reconcile", "--dry-run", manifests},
				{"sim", "host"},
			} {
				stdout, stderr, code := e.runExit(args...)
				if code != 1 {
					t.Errorf("%v: exit %d, want 1\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
				}
				if !strings.Contains(stderr, tt.file+" ") || !strings.Contains(stderr, "emulated host state is damaged") || !strings.Contains(stderr, "restore it from a backup") {
					t.Errorf("%v: stderr %q, want it to name %s as damaged and say what to do", args, stderr, tt.file)
				}
				if strings.Contains(stdout, "create") || strings.Contains(stdout, "NAME") {
					t.Errorf("%v: stdout shows a host: %s", args, stdout)
				}
			}
			if after := snapshotFiles(t, e.state); !after.equal(damaged) {
				t.Errorf("the damaged state was written to")
			}
			good.restore(t, e.state)
			if got := e.systems(); len(got) != 3 || got["iis"].Owner != "docker" {
				t.Errorf("put back, the host has %v, want web, api and docker's iis", keys(got))
			}
		})
	}
}

// cutLastLine removes the journal's last entry, as a truncation at a line
// end would.
func cutLastLine(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.Truncate(path, int64(bytes.LastIndexByte(data[:len(data)-1], '\n')+1))
}

// stateFiles are a state's files as they were at one moment; nil for a
// missing one.
type stateFiles map[string][]byte

func snapshotFiles(t *testing.T, state string) stateFiles {
	t.Helper()
	out := stateFiles{}
	for _, p := range []string{state, state + ".journal"} {
		data, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out[p] = data
	}
	return out
}

func (f stateFiles) equal(g stateFiles) bool {
	for p, data := range f {
		if (data == nil) != (g[p] == nil) || !bytes.Equal(data, g[p]) {
			return false
		}
	}
	return true
}

func (f stateFiles) restore(t *testing.T, state string) {
	t.Helper()
	for p, data := range f {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Two agents of one owner reaching one state through a symlink are two
// agents on one host: the second is refused.
func TestAgentLockThroughSymlink(t *testing.T) {
	e := newEnv(t)
	if _, err := e.run("sim", "host"); err != nil { // creates the state
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.json")
	if err := os.Symlink(e.state, link); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "web.yaml"), testfixture.Manifest("web", ltsc2022, "process"))
	first := e.start("--dir", dir)
	first.waitLog("pass done")

	second := &env{t: t, state: link}
	_, stderr, code := second.runExit("watch", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "another reconciler already manages the containers of owner \"reconciler\"") {
		t.Errorf("second agent through a symlink: exit %d, stderr %q; want exit 1, refused", code, stderr)
	}
	_, stderr, code = second.runExit("reconcile", dir)
	if code != 1 || !strings.Contains(stderr, "another reconciler already manages") {
		t.Errorf("reconcile through a symlink while the agent runs: exit %d, stderr %q; want exit 1, refused", code, stderr)
	}
}
