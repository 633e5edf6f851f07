package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// Bombs are small files built to be expensive: each class is one way a
// careless or hostile file could make loading take unbounded time or
// memory. Every one is at most MaxFileSize.
func Bombs() map[string]string {
	big := strings.Repeat("A", 100<<10)
	fill := func(prefix, unit, suffix string) string {
		n := (MaxFileSize - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	var laughs, merges strings.Builder
	laughs.WriteString(manifestHead + "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	merges.WriteString(manifestHead + "  x0: &m0 {image: a}\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&laughs, "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		fmt.Fprintf(&merges, "  x%d: &m%d {<<: [*m%d, *m%d, *m%d]}\n", i, i, i-1, i-1, i-1)
	}
	laughs.WriteString("spec: {command: *a29, devices: *a29, env: {A: *a29}}\n")
	merges.WriteString("spec:\n  <<: [*m29, *m29]\n")
	return map[string]string{
		// The reproduction: one 100 KB string aliased 10,000 times.
		"string alias": manifestHead + "spec:\n  image: x/y:1\n  workingDir: &s \"" + big + "\"\n  command: [" + strings.Repeat("*s, ", 10000) + "]\n",
		"string alias in env": manifestHead + "spec:\n  image: x/y:1\n  hostname: &s " + big + "\n  env: {" + func() string {
			var b strings.Builder
			for i := range 5000 {
				fmt.Fprintf(&b, "V%d: *s, ", i)
			}
			return b.String()
		}() + "}\n",
		"billion laughs":     laughs.String(),
		"merge keys":         merges.String(),
		"deep flow nesting":  fill(manifestHead+"spec: {image: x/y:1, command: ", "[", ""),
		"deep block nesting": fill(manifestHead+"spec:\n", "- ", "x\n"),
		"long scalar":        fill(manifestHead+"spec:\n  image: x/y:1\n  hostname: ", "a", "\n"),
		"many unknown keys":  fill(manifestHead+"spec:\n  image: x/y:1\n", "  k: v\n", ""),
		"many documents":     fill("", "---\n{}\n", ""),
		// Valid YAML, but a command line far over what Windows runs.
		"many list entries": fill(manifestHead+"spec:\n  image: x/y:1\n  command: [", "a,", "a]\n"),
		"many anchors":      fill(manifestHead+"spec:\n  image: x/y:1\n  command: [", "&a a,", "a]\n"),
	}
}

const manifestHead = "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\n"

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
