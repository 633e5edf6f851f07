package main

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestPerRepo(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		n       int
		want    []string
		wantErr bool
	}{
		{name: "none given", values: nil, n: 2, want: []string{"", ""}},
		{name: "one for all", values: []string{"main"}, n: 3, want: []string{"main", "main", "main"}},
		{name: "one each", values: []string{"main", "v1"}, n: 2, want: []string{"main", "v1"}},
		{name: "mismatch", values: []string{"a", "b"}, n: 3, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := perRepo("--ref", tt.values, tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		want       int
		wantStderr string
	}{
		{name: "success", err: nil, want: 0},
		{name: "plain error", err: errors.New("boom"), want: 1, wantStderr: "reconciler: boom\n"},
		{name: "changes pending, already reported", err: &exitError{code: 2}, want: 2},
		{name: "coded error with a message", err: &exitError{code: 1, err: errors.New("bad")}, want: 1, wantStderr: "reconciler: bad\n"},
		{name: "a flag value with a token in a URL", err: errors.New(`invalid argument "https://user:s3cret@h/x.git" for "--interval" flag`),
			want: 1, wantStderr: "reconciler: invalid argument \"https://***@h/x.git\" for \"--interval\" flag\n"},
		{name: "a coded error with a token in a URL", err: &exitError{code: 1, err: errors.New("fetch http://s3cret@h/x.git: refused")},
			want: 1, wantStderr: "reconciler: fetch http://***@h/x.git: refused\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tt.err, &console{w: &stderr}); got != tt.want || stderr.String() != tt.wantStderr {
				t.Errorf("exitCode = %d, stderr %q; want %d, %q", got, stderr.String(), tt.want, tt.wantStderr)
			}
		})
	}
}
