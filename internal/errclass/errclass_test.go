package errclass

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "none", err: nil, want: ""},
		{name: "a class", err: fs.ErrNotExist, want: "file does not exist"},
		{name: "wrapped, reworded", err: fmt.Errorf("open web.yaml: %w", fs.ErrNotExist), want: "file does not exist"},
		{name: "the first class wins", err: fmt.Errorf("%w: %w", fs.ErrPermission, fs.ErrNotExist), want: "permission denied"},
		{name: "no class", err: errors.New("boom"), want: Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err, fs.ErrPermission, fs.ErrNotExist); got != tt.want {
				t.Errorf("Of(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
