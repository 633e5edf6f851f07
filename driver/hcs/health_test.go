package hcs

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func TestExecHealthProcess(t *testing.T) {
	tests := []struct {
		name string
		spec *spec.ContainerSpec
		args []string
		want processConfig
	}{
		{name: "no spec known", args: []string{"cmd", "/c", "exit 0"},
			want: processConfig{CommandLine: `cmd /c "exit 0"`, WorkingDirectory: `C:\`, CreateStdOutPipe: true, CreateStdErrPipe: true}},
		{name: "the container's working directory and environment",
			spec: &spec.ContainerSpec{WorkingDir: `C:\app`, Env: map[string]string{"PORT": "80"}},
			args: []string{`C:\Program Files\probe.exe`, `--url=http://localhost/a "b"`, ""},
			want: processConfig{CommandLine: `"C:\Program Files\probe.exe" "--url=http://localhost/a \"b\"" ""`, WorkingDirectory: `C:\app`,
				Environment: map[string]string{"PORT": "80"}, CreateStdOutPipe: true, CreateStdErrPipe: true}},
		{name: "trailing backslashes doubled only inside quotes", args: []string{`C:\dir with space\`, `C:\plain\`},
			want: processConfig{CommandLine: `"C:\dir with space\\" C:\plain\`, WorkingDirectory: `C:\`, CreateStdOutPipe: true, CreateStdErrPipe: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := execHealthProcess(tt.spec, tt.args); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("execHealthProcess = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExecVerdict(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		output string
		want   string // "" for healthy
	}{
		{name: "exit 0", code: 0, output: "anything"},
		{name: "exit 1 with output", code: 1, output: "\r\nconnecting...\r\nERROR: 503\r\n",
			want: "health check failed: exit code 1: connecting... | ERROR: 503"},
		{name: "long output quoted in part", code: 2, output: "a\nb\n\nc\nd\ne\n", want: "health check failed: exit code 2: a | b | c …"},
		{name: "no output", code: -1073741510, want: "health check failed: exit code -1073741510"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := execVerdict(tt.code, []byte(tt.output))
			if tt.want == "" {
				if err != nil {
					t.Errorf("execVerdict = %v, want healthy", err)
				}
				return
			}
			if !errors.Is(err, driver.ErrUnhealthy) || err.Error() != tt.want {
				t.Errorf("execVerdict = %v, want %q (ErrUnhealthy)", err, tt.want)
			}
		})
	}
}

func TestBoundedBuffer(t *testing.T) {
	b := &boundedBuffer{max: 5}
	for _, s := range []string{"abc", "defg", "h"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want all taken", s, n, err)
		}
	}
	if got := string(b.Bytes()); got != "abcde" {
		t.Errorf("kept %q, want the first 5 bytes", got)
	}
}

func TestHealthTargets(t *testing.T) {
	ports := []spec.Port{{HostPort: 8443, ContainerPort: 443}, {HostPort: 5353, ContainerPort: 80, Protocol: "udp"}, {HostPort: 8080, ContainerPort: 80, Protocol: "TCP"}}
	tests := []struct {
		name    string
		ip      string
		ports   []spec.Port
		port    int
		want    []string
		wantErr bool
	}{
		{name: "endpoint, then published port", ip: "172.20.1.5", ports: ports, port: 80, want: []string{"172.20.1.5:80", "127.0.0.1:8080"}},
		{name: "endpoint only", ip: "172.20.1.5", ports: ports, port: 9000, want: []string{"172.20.1.5:9000"}},
		{name: "no endpoint: the published port", ports: ports, port: 443, want: []string{"127.0.0.1:8443"}},
		{name: "IPv6 endpoint", ip: "fd00::5", port: 80, want: []string{"[fd00::5]:80"}},
		{name: "neither: a udp mapping does not count", ports: ports[1:2], port: 80, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := healthTargets(tt.ip, tt.ports, tt.port)
			if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("healthTargets = %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestProbeTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	closed := closedAddr(t)
	tests := []struct {
		name    string
		targets []string
		healthy bool
	}{
		{name: "listening", targets: []string{l.Addr().String()}, healthy: true},
		{name: "first refused, second listening", targets: []string{closed, l.Addr().String()}, healthy: true},
		{name: "refused", targets: []string{closed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := probeTCP(t.Context(), tt.targets)
			if tt.healthy != (err == nil) || (err != nil && !errors.Is(err, driver.ErrUnhealthy)) {
				t.Errorf("probeTCP = %v, want healthy %v (else ErrUnhealthy)", err, tt.healthy)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := probeTCP(ctx, []string{l.Addr().String()}); !errors.Is(err, context.Canceled) {
		t.Errorf("probeTCP with a cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestProbeHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusNoContent)
		case "/moved":
			http.Redirect(w, r, "/broken", http.StatusFound)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "/starting":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	up := strings.TrimPrefix(srv.URL, "http://")
	closed := closedAddr(t)
	tests := []struct {
		name     string
		targets  []string
		path     string
		wantText string // "" for healthy
	}{
		{name: "2xx", targets: []string{up}, path: "/healthz"},
		{name: "3xx, redirect not followed", targets: []string{up}, path: "/moved"},
		{name: "path without slash", targets: []string{up}, path: "healthz"},
		{name: "503", targets: []string{up}, path: "/starting", wantText: "answered HTTP 503 Service Unavailable"},
		{name: "404", targets: []string{up}, path: "/nothing", wantText: "answered HTTP 404 Not Found"},
		{name: "first unreachable, second answers", targets: []string{closed, up}, path: "/healthz"},
		{name: "first unreachable, second answers 500", targets: []string{closed, up}, path: "/broken", wantText: "answered HTTP 500"},
		{name: "unreachable", targets: []string{closed}, path: "/healthz", wantText: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := probeHTTP(t.Context(), tt.targets, tt.path)
			if tt.wantText == "" {
				if err != nil {
					t.Errorf("probeHTTP = %v, want healthy", err)
				}
				return
			}
			if !errors.Is(err, driver.ErrUnhealthy) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("probeHTTP = %v, want ErrUnhealthy saying %q", err, tt.wantText)
			}
		})
	}
}
