//go:build unix

package source

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

// TestFolderSnapshotPartialViews: a manifest that turns into something the
// source cannot read as a whole — empty, a named pipe, a link to a device
// or a folder — keeps its last good containers and is a problem (an error,
// or a warning for a file that declares nothing), which holds removals;
// nothing blocks on the pipe.
func TestFolderSnapshotPartialViews(t *testing.T) {
	tests := []struct {
		name     string
		make     func(t *testing.T, path string)
		wantErr  string
		wantWarn string
	}{
		{name: "truncated to nothing", make: func(t *testing.T, path string) { folderWriteFile(t, path, "") },
			wantWarn: "declares nothing"},
		{name: "only a comment and null", make: func(t *testing.T, path string) { folderWriteFile(t, path, "# gone\n~\n") },
			wantWarn: "declares nothing"},
		{name: "named pipe", make: func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "not a regular file: it is a named pipe (FIFO)"},
		{name: "link to /dev/null", make: func(t *testing.T, path string) { folderSymlink(t, os.DevNull, path) },
			wantErr: "not a regular file: it is a symbolic link to a character device"},
		{name: "link to a folder", make: func(t *testing.T, path string) { folderSymlink(t, t.TempDir(), path) },
			wantErr: "not a regular file: it is a symbolic link to a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			folderWrite(t, dir, "web.yaml", manifest("web", "process"))
			folderWrite(t, dir, "db.yaml", manifest("db", "hyperv"))
			f := newTestFolderSource(t, dir)
			folderSnap(t, f)

			path := filepath.Join(dir, "web.yaml")
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			tt.make(t, path)
			s := folderSnap(t, f)
			if got := folderDesired(s); !maps.Equal(got, map[string]spec.Isolation{"web": "process", "db": "hyperv"}) {
				t.Errorf("containers = %v, want web kept at its last good version", got)
			}
			check := func(what string, ps []spec.Problem, want string) {
				ok := slices.ContainsFunc(ps, func(p spec.Problem) bool { return p.File == "web.yaml" && strings.Contains(p.Message, want) })
				if (want != "") != ok || (want == "" && len(ps) > 0) {
					t.Errorf("%s = %v, want one for web.yaml containing %q", what, folderProblems(ps), want)
				}
			}
			check("errors", s.Errors, tt.wantErr)
			check("warnings", s.Warnings, tt.wantWarn)
		})
	}
}

func folderWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func folderSymlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
