package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

// TestJSONLogsOnly: with --log-format json every line on stderr is JSON
// with an ISO 8601 UTC time, the final error and a bad flag included.
func TestJSONLogsOnly(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	for _, args := range [][]string{
		{"reconcile", "../../examples/manifests"},
		{"validate", filepath.Join(t.TempDir(), "missing")},
		{"--log-level", "fatal", "status"},
		{"-o", "xml", "status"},
	} {
		var stdout, stderr bytes.Buffer
		con := &console{w: &stderr}
		args = append([]string{"--log-format", "json", "--driver", "sim", "--sim-state", state}, args...)
		code := exitCode(runWith(context.Background(), args, &stdout, con), con)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		for _, line := range lines {
			var entry struct {
				Level string `json:"level"`
				TS    string `json:"ts"`
				Msg   string `json:"msg"`
			}
			if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Msg == "" {
				t.Errorf("%v: a line on stderr is not a JSON log line: %q", args, line)
				continue
			}
			if ts, err := time.Parse(time.RFC3339Nano, entry.TS); err != nil || ts.Location() != time.UTC {
				t.Errorf("%v: ts %q is not ISO 8601 in UTC", args, entry.TS)
			}
		}
		if last := lines[len(lines)-1]; (code != 0) != strings.Contains(last, `"level":"error"`) {
			t.Errorf("%v: exit %d, last line %q: an exit other than 0 ends with its error", args, code, last)
		}
	}
}
