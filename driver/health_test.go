package driver

import (
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestDescribeCheck(t *testing.T) {
	tests := []struct {
		hc   spec.Healthcheck
		want string
	}{
		{spec.Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}}, `exec ["cmd" "/c" "exit 0"]`},
		{spec.Healthcheck{Exec: []string{`C:\probe.exe`}}, `exec ["C:\\probe.exe"]`},
		{spec.Healthcheck{TCP: 1433}, "tcp port 1433"},
		{spec.Healthcheck{HTTP: spec.HTTPCheck{Path: "/healthz", Port: 8080}}, "http /healthz:8080"},
		{spec.Healthcheck{HTTP: spec.HTTPCheck{Port: 80}}, "http /:80"},
		{spec.Healthcheck{Interval: "5s"}, "no health check"},
	}
	for _, tt := range tests {
		if got := DescribeCheck(tt.hc); got != tt.want {
			t.Errorf("DescribeCheck(%+v) = %q, want %q", tt.hc, got, tt.want)
		}
	}
}
