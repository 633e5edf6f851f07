package main

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/reconcile"
)

func TestApplyFlagsReadTimeout(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    time.Duration
		wantErr string
	}{
		{name: "default", want: reconcile.DefaultReadTimeout},
		{name: "given", args: []string{"--read-timeout", "5s"}, want: 5 * time.Second},
		{name: "zero", args: []string{"--read-timeout", "0s"}, wantErr: "--read-timeout 0s: must be positive"},
		{name: "negative", args: []string{"--read-timeout", "-1s"}, wantErr: "--read-timeout -1s: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f applyFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			f.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := f.check()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("check = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("check = %v", err)
			}
			if got := f.executor(nil, &globals{log: zap.NewNop()}).ReadTimeout; got != tt.want {
				t.Errorf("executor ReadTimeout = %s, want %s", got, tt.want)
			}
		})
	}
}
