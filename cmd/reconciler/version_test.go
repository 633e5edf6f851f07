package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestBuildVersion(t *testing.T) {
	fromClone := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261202025314-0126ecd6a238+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0126ecd6a238f00d"}, {Key: "vcs.time", Value: "2026-12-02T02:53:14Z"}, {Key: "vcs.modified", Value: "true"}}}
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}
	devel := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name                string
		ldVersion, ldCommit string
		ldDate              string
		info                *debug.BuildInfo
		want                versionInfo
		wantText            string
	}{
		{name: "release build: the -ldflags values win", ldVersion: "v1.5.0", ldCommit: "abcdef0123456789", ldDate: "2026-12-01T10:00:00Z", info: fromClone,
			want:     versionInfo{Version: "v1.5.0", Commit: "abcdef0123456789", Date: "2026-12-01T10:00:00Z", Go: "go1.26.8", Platform: platform},
			wantText: "reconciler v1.5.0 (commit abcdef012345, 2026-12-01T10:00:00Z) go1.26.8 " + platform},
		{name: "build from a clone with local changes", info: fromClone,
			want:     versionInfo{Version: "v0.0.0-20261202025314-0126ecd6a238+dirty", Commit: "0126ecd6a238f00d", Date: "2026-12-02T02:53:14Z", Modified: true, Go: "go1.26.8", Platform: platform},
			wantText: "reconciler v0.0.0-20261202025314-0126ecd6a238+dirty (commit 0126ecd6a238 with local changes, 2026-12-02T02:53:14Z) go1.26.8 " + platform},
		{name: "go install of a tag", info: installed,
			want:     versionInfo{Version: "v1.4.0", Go: "go1.26.8", Platform: platform},
			wantText: "reconciler v1.4.0 go1.26.8 " + platform},
		{name: "nothing stamped", info: devel,
			want:     versionInfo{Version: "(devel)", Go: "go1.26.8", Platform: platform},
			wantText: "reconciler (devel) go1.26.8 " + platform},
		{name: "no build info at all", info: nil,
			want:     versionInfo{Version: "(devel)", Go: runtime.Version(), Platform: platform},
			wantText: "reconciler (devel) " + runtime.Version() + " " + platform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version, commit, date = tt.ldVersion, tt.ldCommit, tt.ldDate
			t.Cleanup(func() { version, commit, date = "", "", "" })
			got := buildVersion(tt.info)
			if got != tt.want {
				t.Errorf("buildVersion = %+v, want %+v", got, tt.want)
			}
			if s := got.String(); s != tt.wantText {
				t.Errorf("text = %q, want %q", s, tt.wantText)
			}
		})
	}
}

func TestVersionOutputs(t *testing.T) {
	tests := []struct {
		args  []string
		check func(t *testing.T, out string)
	}{
		{args: []string{"--version"}, check: func(t *testing.T, out string) {
			if out != currentVersion().String()+"\n" {
				t.Errorf("--version = %q", out)
			}
		}},
		{args: []string{"version"}, check: func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "reconciler ") || !strings.HasSuffix(out, runtime.GOOS+"/"+runtime.GOARCH+"\n") {
				t.Errorf("version = %q", out)
			}
		}},
		{args: []string{"version", "-o", "json"}, check: func(t *testing.T, out string) {
			var v versionInfo
			if err := json.Unmarshal([]byte(out), &v); err != nil || v != currentVersion() {
				t.Errorf("version -o json = %q (%v), want %+v", out, err, currentVersion())
			}
		}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), tt.args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		tt.check(t, stdout.String())
	}
}

// TestOutputYAML: -o yaml prints the very data -o json does, for each
// kind of data output.
func TestOutputYAML(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	if _, err := runSim(t, state, "reconcile", "../../examples/manifests"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"version"},
		{"status"},
		{"status", "orders-api"},
		{"ps", "orders-api"},
		{"sim", "host"},
		{"validate", "../../examples/manifests"},
		{"reconcile", "--dry-run", "../../examples/manifests"},
	} {
		js, err := runSim(t, state, append([]string{"-o", "json"}, args...)...)
		if err != nil {
			t.Fatalf("%v -o json: %v", args, err)
		}
		ym, err := runSim(t, state, append([]string{"-o", "yaml"}, args...)...)
		if err != nil {
			t.Fatalf("%v -o yaml: %v", args, err)
		}
		var fromJSON, fromYAML any
		if err := json.Unmarshal([]byte(js), &fromJSON); err != nil {
			t.Fatalf("%v -o json: %v", args, err)
		}
		if err := yaml.Unmarshal([]byte(ym), &fromYAML); err != nil || strings.HasPrefix(strings.TrimSpace(ym), "{") {
			t.Fatalf("%v -o yaml is not YAML (%v):\n%s", args, err, ym)
		}
		if args[0] != "status" && !reflect.DeepEqual(fromJSON, fromYAML) { // status: ages and times move
			t.Errorf("%v: -o yaml and -o json differ:\n%s\n%s", args, ym, js)
		}
	}
}
