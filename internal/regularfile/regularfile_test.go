package regularfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		max      int64
		want     string
		wantErr  error
		wantWord string // in the message
	}{
		{name: "a regular file", path: file, max: 64, want: "s3cret\n"},
		{name: "exactly at the limit", path: file, max: 7, want: "s3cret\n"},
		{name: "over the limit", path: file, max: 6, wantErr: ErrTooLarge, wantWord: "more than 6 bytes"},
		{name: "a directory", path: dir, max: 64, wantErr: ErrNotRegular, wantWord: "a folder"},
		{name: "nothing there", path: filepath.Join(dir, "missing"), max: 64, wantErr: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.path, tt.max)
			if tt.wantErr == nil {
				if err != nil || string(got) != tt.want {
					t.Fatalf("Read = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantWord) {
				t.Fatalf("Read = %q, %v; want %v mentioning %q", got, err, tt.wantErr, tt.wantWord)
			}
		})
	}
}
