package winsvc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The log file is made with its folder at the first write, and rotated
// once it would pass LogMaxMB: the old lines move to a dated file, the
// new ones start a fresh reconciler.log.
func TestLogFileRotates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	w := LogFile(dir)
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	chunk := bytes.Repeat(line, 1024) // 1 MiB of 1 KiB lines
	for range LogMaxMB {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != LogFileName {
		t.Fatalf("before the limit: %v, want %s alone", names(entries), LogFileName)
	}
	if _, err := w.Write([]byte(`{"msg":"after rotation"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Fatalf("after the limit: %v (%v), want %s and one rotated file", names(entries), err, LogFileName)
	}
	current, err := os.ReadFile(filepath.Join(dir, LogFileName))
	if err != nil || string(current) != `{"msg":"after rotation"}`+"\n" {
		t.Errorf("current file %q (%v), want only the line written after rotation", current, err)
	}
	for _, e := range entries {
		if e.Name() != LogFileName && !(strings.HasPrefix(e.Name(), "reconciler-") && strings.HasSuffix(e.Name(), ".log")) {
			t.Errorf("rotated file %s, want reconciler-<time>.log", e.Name())
		}
	}
}

func names(entries []os.DirEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out
}
