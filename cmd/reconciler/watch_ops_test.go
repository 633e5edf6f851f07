package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpsFlagsRefuse: a bad --notify, --listen or token file stops watch
// before anything runs, with an error that names the flag and never the
// secret part of a URL.
func TestOpsFlagsRefuse(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(t.TempDir(), "state.json")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "notify without a type", args: []string{"watch", "--dir", dir, "--notify", "https://hooks.slack.com/services/T/B/SECRET"}, wantErr: "--notify"},
		{name: "notify of an unknown type", args: []string{"watch", "--dir", dir, "--notify", "email=https://x.example/SECRET"}, wantErr: `type "email"`},
		{name: "notify over plain http", args: []string{"watch", "--dir", dir, "--notify", "slack=http://hooks.example/SECRET"}, wantErr: "https://"},
		{name: "bad listen", args: []string{"watch", "--dir", dir, "--listen", "ftp://x"}, wantErr: "--listen"},
		{name: "missing token file", args: []string{"watch", "--dir", dir, "--listen", "127.0.0.1:0", "--api-token-file", filepath.Join(dir, "none")}, wantErr: "API token"},
		{name: "suspend at a bad address", args: []string{"suspend", "--agent", "unix://"}, wantErr: "unix:// needs a path"},
		{name: "suspend with a missing token file", args: []string{"suspend", "--agent", "127.0.0.1:1", "--token-file", filepath.Join(dir, "none")}, wantErr: "API token"},
		{name: "resume needs --agent", args: []string{"resume"}, wantErr: "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), append([]string{"--driver", "sim", "--sim-state", state}, tt.args...), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("%v: %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q shows the URL's secret", err)
			}
		})
	}
}
