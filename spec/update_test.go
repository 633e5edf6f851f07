package spec

import (
	"testing"
	"time"
)

func TestUpdateDefaults(t *testing.T) {
	no := false
	tests := []struct {
		name         string
		u            Update
		wantStrategy UpdateStrategy
		wantDeadline time.Duration
		wantRollback bool
	}{
		{"unset", Update{}, UpdateRecreate, DefaultProgressDeadline, true},
		{"written", Update{Strategy: UpdateStartFirst, ProgressDeadline: "90s", AutoRollback: &no}, UpdateStartFirst, 90 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.u.StrategyOrDefault(); got != tt.wantStrategy {
				t.Errorf("strategy %q, want %q", got, tt.wantStrategy)
			}
			if got := tt.u.Deadline(); got != tt.wantDeadline {
				t.Errorf("deadline %v, want %v", got, tt.wantDeadline)
			}
			if got := tt.u.Rollback(); got != tt.wantRollback {
				t.Errorf("rollback %v, want %v", got, tt.wantRollback)
			}
		})
	}
}

func TestHealthTiming(t *testing.T) {
	tests := []struct {
		name string
		h    Healthcheck
		want HealthTiming
	}{
		{"defaults", Healthcheck{TCP: 80}, HealthTiming{DefaultHealthInterval, DefaultHealthTimeout, DefaultHealthStartPeriod, DefaultHealthRetries}},
		{"written", Healthcheck{TCP: 80, Interval: "1s", Timeout: "500ms", StartPeriod: "0s", Retries: 1}, HealthTiming{time.Second, 500 * time.Millisecond, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Timing(); got != tt.want {
				t.Errorf("Timing() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHealthcheckDefined(t *testing.T) {
	for _, tt := range []struct {
		h    Healthcheck
		want bool
	}{
		{Healthcheck{}, false},
		{Healthcheck{Interval: "5s"}, false},
		{Healthcheck{Exec: []string{"cmd", "/c", "exit 0"}}, true},
		{Healthcheck{TCP: 80}, true},
		{Healthcheck{HTTP: HTTPCheck{Path: "/healthz", Port: 80}}, true},
	} {
		if got := tt.h.Defined(); got != tt.want {
			t.Errorf("%+v.Defined() = %v, want %v", tt.h, got, tt.want)
		}
	}
}
