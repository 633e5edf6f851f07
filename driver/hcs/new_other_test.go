//go:build !windows

package hcs

import (
	"errors"
	"strings"
	"testing"
)

func TestNewOffWindows(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
		wantIs  error
	}{
		{"refused with a hint", Options{DataDir: t.TempDir()}, "--driver sim", ErrUnsupportedOS},
		{"configuration checked first", Options{}, "data directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(t.Context(), tt.opts)
			if d != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, %v; want an error containing %q", d, err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("New = %v, want %v", err, tt.wantIs)
			}
		})
	}
}
