package sim

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestDefaultStatePath(t *testing.T) {
	// XDG_STATE_HOME counts when it is absolute on the machine running the
	// code: /xdg on Unix, a drive's \xdg on Windows.
	xdg, err := filepath.Abs(filepath.FromSlash("/xdg"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		goos    string
		env     map[string]string
		home    string
		want    string
		wantErr bool
	}{
		{name: "xdg", goos: "linux", env: map[string]string{"XDG_STATE_HOME": xdg}, home: "/home/u", want: filepath.Join(xdg, "reconciler", "sim-host.json")},
		{name: "relative xdg is ignored", goos: "linux", env: map[string]string{"XDG_STATE_HOME": "rel"}, home: "/home/u", want: filepath.Join("/home/u", ".local", "state", "reconciler", "sim-host.json")},
		{name: "home", goos: "darwin", home: "/Users/u", want: filepath.Join("/Users/u", ".local", "state", "reconciler", "sim-host.json")},
		{name: "no home", goos: "linux", wantErr: true},
		{name: "windows", goos: "windows", env: map[string]string{"LocalAppData": `C:\Users\u\AppData\Local`, "XDG_STATE_HOME": "/xdg"}, want: filepath.Join(`C:\Users\u\AppData\Local`, "reconciler", "sim-host.json")},
		{name: "windows without LocalAppData", goos: "windows", home: `C:\Users\u`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := func() (string, error) {
				if tt.home == "" {
					return "", errors.New("no home")
				}
				return tt.home, nil
			}
			got, err := defaultStatePath(tt.goos, func(k string) string { return tt.env[k] }, home)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("defaultStatePath = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSetHost(t *testing.T) {
	tests := []struct {
		name    string
		host    spec.Host
		wantErr bool
	}{
		{name: "server 2019", host: server2019},
		{name: "client without Hyper-V", host: spec.Host{Build: 22631, SKU: spec.SKUClient}},
		{name: "no build", host: spec.Host{SKU: spec.SKUServer}, wantErr: true},
		{name: "bad sku", host: spec.Host{Build: 20348, SKU: "datacenter"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "host.json")
			h := openTestHost(t, path)
			err := h.SetHost(t.Context(), tt.host)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SetHost = %v, wantErr %v", err, tt.wantErr)
			}
			want := tt.host
			if tt.wantErr {
				want = defaultHost
			}
			got, err := openTestHost(t, path).Host(t.Context())
			if err != nil || got != want {
				t.Errorf("Host = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

func TestResolveStatePathLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := os.Symlink(b, a); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	if err := os.Symlink(a, b); err != nil {
		t.Fatal(err)
	}
	if got, err := ResolveStatePath(a); err == nil {
		t.Errorf("ResolveStatePath of a link loop = %s, want an error", got)
	}
	if _, err := Open(a, nil); err == nil {
		t.Errorf("Open of a link loop succeeded")
	}
}
