//go:build unix

package spec

import (
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
