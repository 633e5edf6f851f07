//go:build linux

package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{
			name: "utime and stime summed",
			stat: "1234 (reconciler) S 1 1234 1234 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 8 0 100 1000 2000",
			want: 1750 * time.Millisecond,
		},
		{
			name: "command name with spaces and parentheses",
			stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1",
			want: 70 * time.Millisecond,
		},
		{name: "no command name", stat: "7 a R 1", wantErr: true},
		{name: "too few fields", stat: "7 (a) R 1 7 7", wantErr: true},
		{name: "not a number", stat: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 4 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestStatusKB(t *testing.T) {
	status := "Name:\treconciler\nVmHWM:\t   41236 kB\nVmRSS:\t   30512 kB\nThreads:\t9\n"
	tests := []struct {
		name    string
		key     string
		want    int64
		wantErr bool
	}{
		{name: "rss", key: "VmRSS", want: 30512},
		{name: "peak", key: "VmHWM", want: 41236},
		{name: "not a size", key: "Threads", wantErr: true},
		{name: "absent", key: "VmSwap", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statusKB([]byte(status), tt.key)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// inotifyEvent encodes one event as the kernel does, its name padded with
// NULs to nameLen.
func inotifyEvent(wd int32, mask uint32, name string, nameLen int) []byte {
	b := make([]byte, syscall.SizeofInotifyEvent+nameLen)
	binary.NativeEndian.PutUint32(b[0:], uint32(wd))
	binary.NativeEndian.PutUint32(b[4:], mask)
	binary.NativeEndian.PutUint32(b[12:], uint32(nameLen))
	copy(b[syscall.SizeofInotifyEvent:], name)
	return b
}

func TestParseInotify(t *testing.T) {
	dirs := map[int32]string{1: ".", 2: "team-3"}
	var buf []byte
	buf = append(buf, inotifyEvent(1, syscall.IN_OPEN, "a.yaml", 16)...)
	buf = append(buf, inotifyEvent(2, syscall.IN_OPEN, "b.yaml", 16)...)
	buf = append(buf, inotifyEvent(1, syscall.IN_OPEN|syscall.IN_ISDIR, "team-3", 16)...)
	buf = append(buf, inotifyEvent(2, syscall.IN_OPEN, "", 0)...) // the watched folder itself
	buf = append(buf, inotifyEvent(-1, syscall.IN_Q_OVERFLOW, "", 0)...)
	buf = append(buf, inotifyEvent(2, syscall.IN_OPEN, "torn.yaml", 16)[:20]...)
	got := parseInotify(buf, time.Time{}, dirs)
	want := []string{"a.yaml", "team-3/b.yaml"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].name != want[i] {
			t.Errorf("open %d: got %q, want %q", i, got[i].name, want[i])
		}
	}
}

func TestOpenCounter(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "team-0")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(root, "a.yaml"), filepath.Join(sub, "b.yaml")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := newOpenCounter(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	from := time.Now()
	if _, err := os.ReadFile(filepath.Join(sub, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadDir(root); err != nil { // a folder listing is not a file open
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.between(from, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].name == "team-0/b.yaml" {
			return
		}
		if len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("opens %v, want only team-0/b.yaml", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // 100 … 1, unsorted
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    int
		want time.Duration
	}{
		{name: "empty", ds: nil, p: 50, want: 0},
		{name: "median of odd count", ds: ms(30, 10, 20), p: 50, want: 20 * time.Millisecond},
		{name: "p99 of 100 is the 99th", ds: hundred, p: 99, want: 99 * time.Millisecond},
		{name: "p50 of 100 is the 50th", ds: hundred, p: 50, want: 50 * time.Millisecond},
		{name: "p100 is the max", ds: ms(5, 9, 1), p: 100, want: 9 * time.Millisecond},
		{name: "p0 is the min", ds: ms(5, 9, 1), p: 0, want: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.ds, tt.p); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPressureSome10(t *testing.T) {
	tests := []struct {
		name string
		psi  string
		want string
	}{
		{name: "some line", psi: "some avg10=8.54 avg60=8.66 avg300=31.13 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", want: "8.54"},
		{name: "no some line", psi: "full avg10=1.00 avg60=0.00 avg300=0.00 total=0\n", want: "?"},
		{name: "empty", psi: "", want: "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pressureSome10([]byte(tt.psi)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
