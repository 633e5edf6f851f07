//go:build unix

package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestNotRegularFiles: a manifest path that exists but is not a regular
// file is one problem naming what it is, whether named explicitly or found
// in a folder, and is never opened: a named pipe would block the open
// until a writer came (this test would then hang).
func TestNotRegularFiles(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(valid, []byte(manifest("")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"devnull.yaml": os.DevNull, "folder.yaml": dir, "dangling.yaml": filepath.Join(dir, "gone")} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"fifo.yaml":     "not a regular file: it is a named pipe (FIFO)",
		"devnull.yaml":  "not a regular file: it is a symbolic link to a character device",
		"folder.yaml":   "not a regular file: it is a symbolic link to a folder",
		"dangling.yaml": "cannot read: no such file or directory",
	}
	for name, msg := range want {
		t.Run("explicit "+name, func(t *testing.T) {
			cs, ps := ParseFile(filepath.Join(dir, name), name)
			if len(cs) != 0 || len(ps) != 1 || !strings.Contains(ps[0].Message, msg) || ps[0].File != name || ps[0].Warning {
				t.Errorf("ParseFile = %d containers, problems %+v; want one error containing %q", len(cs), ps, msg)
			}
		})
	}
	t.Run("in a folder", func(t *testing.T) {
		set, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Containers) != 1 {
			t.Errorf("got %d containers, want the valid one", len(set.Containers))
		}
		for name, msg := range want {
			if !slices.ContainsFunc(set.Errors, func(p Problem) bool { return p.File == name && strings.Contains(p.Message, msg) }) {
				t.Errorf("no error for %s containing %q in %+v", name, msg, set.Errors)
			}
		}
	})
}

// TestReadManifestDataAgrees: the read Load uses (system calls on Linux)
// returns what ReadManifest returns, content, size and problem wording,
// for every kind of path a folder can hold.
func TestReadManifestDataAgrees(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.yaml", []byte(manifest("")), 0o644)
	write("empty.yaml", nil, 0o644)
	write("large.yaml", bytes.Repeat([]byte("#"), MaxFileSize+100), 0o644)
	write("locked.yaml", []byte(manifest("")), 0o000)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"devnull.yaml": os.DevNull, "linked.yaml": "ok.yaml", "dangling.yaml": "gone"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"ok.yaml", "empty.yaml", "large.yaml", "locked.yaml", "fifo.yaml", "folder.yaml", "devnull.yaml", "linked.yaml", "dangling.yaml", "missing.yaml"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			size, data, err := readManifestData(path)
			st, wantData, wantErr := ReadManifest(path)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("error %v, ReadManifest's %v", err, wantErr)
			}
			if err != nil {
				if got, want := ReadProblem(name, err), ReadProblem(name, wantErr); got != want {
					t.Errorf("problem %q, ReadManifest's %q", got.Message, want.Message)
				}
				return
			}
			if size != st.Size() || !bytes.Equal(data, wantData) {
				t.Errorf("size %d and %d bytes read, ReadManifest's %d and %d bytes", size, len(data), st.Size(), len(wantData))
			}
		})
	}
}
