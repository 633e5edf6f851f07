package hcs

import (
	"testing"
	"time"
)

func TestOptionsWithDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      Options
		want    Options
		wantErr bool
	}{
		{"defaults", Options{DataDir: `C:\data`}, Options{DataDir: `C:\data`, Owner: DefaultOwner, StopTimeout: DefaultStopTimeout}, false},
		{"kept", Options{DataDir: "d", Owner: "fleet-a", StopTimeout: time.Second, RegistryConfig: "c.json"},
			Options{DataDir: "d", Owner: "fleet-a", StopTimeout: time.Second, RegistryConfig: "c.json"}, false},
		{"no data dir", Options{}, Options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got.Logger == nil {
				t.Error("Logger is nil, want a no-op logger")
			}
			got.Logger = nil
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
