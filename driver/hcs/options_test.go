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
		{"defaults", Options{DataDir: `C:\data`}, Options{DataDir: `C:\data`, Owner: DefaultOwner, StopTimeout: DefaultStopTimeout, ScratchSize: DefaultScratchSize}, false},
		{"kept", Options{DataDir: "d", Owner: "fleet-a", StopTimeout: time.Second, RegistryConfig: "c.json", ScratchSize: 50 << 30},
			Options{DataDir: "d", Owner: "fleet-a", StopTimeout: time.Second, RegistryConfig: "c.json", ScratchSize: 50 << 30}, false},
		{"scratch of HCS's own size", Options{DataDir: "d", ScratchSize: 20 << 30},
			Options{DataDir: "d", Owner: DefaultOwner, StopTimeout: DefaultStopTimeout, ScratchSize: 20 << 30}, false},
		{"scratch below HCS's size", Options{DataDir: "d", ScratchSize: 10 << 30}, Options{}, true},
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

func TestScratchExpansion(t *testing.T) {
	if DefaultScratchSize != 136365211648 {
		t.Errorf("DefaultScratchSize = %d, want 127 GB (136365211648 bytes)", DefaultScratchSize)
	}
	tests := []struct {
		name       string
		size       uint64
		wantExpand bool
	}{
		{"default is expanded to", DefaultScratchSize, true},
		{"HCS's own size needs nothing", 20 << 30, false},
		{"one byte more is expanded to", 20<<30 + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, expand := scratchExpansion(tt.size)
			if expand != tt.wantExpand || (expand && got != tt.size) {
				t.Errorf("scratchExpansion(%d) = %d, %v; want %d, %v", tt.size, got, expand, tt.size, tt.wantExpand)
			}
		})
	}
	o, err := Options{DataDir: "d"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if size, expand := scratchExpansion(o.ScratchSize); !expand || size != DefaultScratchSize {
		t.Errorf("a driver with default options expands scratch to %d (%v), want %d", size, expand, DefaultScratchSize)
	}
}
