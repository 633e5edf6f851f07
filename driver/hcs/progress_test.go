package hcs

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/driver"
)

// stepClock advances by step at every reading.
type stepClock struct {
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	c.t = c.t.Add(c.step)
	return c.t
}

// chunkReader returns its data n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(r.n, len(b), len(r.data))
	copy(b, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

func TestProgressReader(t *testing.T) {
	type report struct {
		n     int64
		final bool
	}
	tests := []struct {
		name string
		step time.Duration
		want []report
	}{
		{"reports every interval and at EOF", 3 * time.Second, []report{{20, false}, {40, false}, {50, true}}},
		{"fast reads only report at EOF", time.Millisecond, []report{{50, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &stepClock{t: time.Unix(0, 0), step: tt.step}
			var got []report
			pr := newProgressReader(&chunkReader{data: []byte(strings.Repeat("x", 50)), n: 10}, 5*time.Second, clock.now,
				func(n int64, final bool) { got = append(got, report{n, final}) })
			data, err := io.ReadAll(pr)
			if err != nil || len(data) != 50 {
				t.Fatalf("ReadAll = %d bytes, %v", len(data), err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reports %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPullTracker(t *testing.T) {
	tr := newPullTracker()
	if got := tr.snapshot(); got == nil || len(got) != 0 {
		t.Errorf("no pulls: snapshot = %#v, want an empty slice (JSON [], not null)", got)
	}
	start := time.Unix(100, 0)
	tr.update("b:1", start, 1, 2, 10)
	tr.update("a:1", start, 2, 3, 5)
	tr.update("b:1", start, 2, 2, 7)
	want := []driver.PullProgress{
		{Image: "a:1", Layer: 2, Layers: 3, Bytes: 5, Started: start},
		{Image: "b:1", Layer: 2, Layers: 2, Bytes: 7, Started: start},
	}
	if got := tr.snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("snapshot = %+v, want %+v", got, want)
	}
	tr.done("a:1")
	if got := tr.snapshot(); len(got) != 1 || got[0].Image != "b:1" {
		t.Errorf("after done: %+v, want only b:1", got)
	}
}
