package spec

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadLimited: whatever the size hint (right, stale, unknown) and
// however the reader splits its reads, readLimited returns the whole
// content, or MaxFileSize+1 bytes of a larger one, and passes read errors
// on.
func TestReadLimited(t *testing.T) {
	small := strings.Repeat("x", 700)
	big := strings.Repeat("y", MaxFileSize+10)
	tests := []struct {
		name    string
		content string
		hint    int64
		oneByte bool
		want    int
	}{
		{name: "exact hint", content: small, hint: 700, want: 700},
		{name: "unknown size", content: small, want: 700},
		{name: "file grew since stat", content: small, hint: 10, want: 700},
		{name: "file shrank since stat", content: small, hint: 5000, want: 700},
		{name: "one byte per read", content: small, hint: 700, oneByte: true, want: 700},
		{name: "empty", content: "", hint: 0, want: 0},
		{name: "over the limit, hint right", content: big, hint: int64(len(big)), want: MaxFileSize + 1},
		{name: "over the limit, hint unknown", content: big, want: MaxFileSize + 1},
		{name: "exactly the limit", content: big[:MaxFileSize], hint: MaxFileSize, want: MaxFileSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.content)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := readLimited(r, tt.hint)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || !bytes.Equal(got, []byte(tt.content[:tt.want])) {
				t.Errorf("read %d bytes, want the first %d of the content", len(got), tt.want)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := readLimited(iotest.ErrReader(boom), 100); !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
	})
}
