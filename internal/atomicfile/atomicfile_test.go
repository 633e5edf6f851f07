package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFilePrivate: a perm that gives group and others nothing makes a
// file only its owner can read (mode bits on Unix, an owner-only protected
// DACL on Windows), also when it replaces a file anyone could read; a
// wider perm does not.
func TestWriteFilePrivate(t *testing.T) {
	tests := []struct {
		name        string
		before      fs.FileMode // 0: no file before
		perm        fs.FileMode
		wantPrivate bool
	}{
		{name: "new private file", perm: 0o600, wantPrivate: true},
		{name: "new read-only private file", perm: 0o400, wantPrivate: true},
		{name: "private over a public file", before: 0o644, perm: 0o600, wantPrivate: true},
		{name: "new public file", perm: 0o644},
		{name: "public over a private file", before: 0o600, perm: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if tt.before != 0 {
				if err := WriteFile(path, []byte("old"), tt.before); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte("new"), tt.perm); err != nil {
				t.Fatal(err)
			}
			if data, err := os.ReadFile(path); err != nil || string(data) != "new" {
				t.Errorf("content = %q, %v; want new", data, err)
			}
			if got, err := Private(path); err != nil || got != tt.wantPrivate {
				t.Errorf("Private = %v, %v; want %v", got, err, tt.wantPrivate)
			}
			leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp"))
			if err != nil || len(leftovers) != 0 {
				t.Errorf("temporary files left: %v, %v", leftovers, err)
			}
		})
	}
}
