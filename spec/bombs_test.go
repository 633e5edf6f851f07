package spec

import (
	"runtime"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/spec/spectest"
)

// Bombs are spectest's bombs at MaxFileSize.
func Bombs() map[string]string { return spectest.Bombs(MaxFileSize) }

// maxBombAlloc is what loading any one file may allocate in all, far below
// the 200 MB of memory.
const maxBombAlloc = 200 << 20

// TestParseBombs: every bomb is refused with a placed problem or loads,
// within the allocation bound (counted by the runtime, so the test does
// not depend on the machine's speed; BenchmarkParseBombs times them).
func TestParseBombs(t *testing.T) {
	for name, doc := range Bombs() {
		t.Run(name, func(t *testing.T) {
			if len(doc) > MaxFileSize {
				t.Fatalf("bomb is %d bytes, over MaxFileSize", len(doc))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cs, ps := Parse(strings.NewReader(doc), "bomb.yaml")
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxBombAlloc {
				t.Errorf("Parse allocated %d MB, over %d MB", alloc>>20, maxBombAlloc>>20)
			}
			if len(cs) != 0 || len(ps) == 0 {
				t.Errorf("got %d containers and %d problems, want the file refused", len(cs), len(ps))
			}
			if len(ps) > maxFileProblems+1 {
				t.Errorf("got %d problems, want at most %d", len(ps), maxFileProblems+1)
			}
			for _, p := range ps[:min(len(ps), 3)] {
				t.Logf("%.200s", p.Error())
			}
		})
	}
}

func BenchmarkParseBombs(b *testing.B) {
	for name, doc := range Bombs() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				Parse(strings.NewReader(doc), "bomb.yaml")
			}
		})
	}
}
