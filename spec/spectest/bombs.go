// Package spectest holds manifests that the tests of spec and the bench
// programs share. It imports nothing of the project.
package spectest

import (
	"fmt"
	"strings"
)

// Bombs are small files built to be expensive: each class is one way a
// careless or hostile file could make loading take unbounded time or
// memory. Every one is at most maxFileSize.
func Bombs(maxFileSize int) map[string]string {
	big := strings.Repeat("A", 100<<10)
	fill := func(prefix, unit, suffix string) string {
		n := (maxFileSize - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	var laughs, merges strings.Builder
	laughs.WriteString(head + "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	merges.WriteString(head + "  x0: &m0 {image: a}\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&laughs, "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		fmt.Fprintf(&merges, "  x%d: &m%d {<<: [*m%d, *m%d, *m%d]}\n", i, i, i-1, i-1, i-1)
	}
	laughs.WriteString("spec: {command: *a29, devices: *a29, env: {A: *a29}}\n")
	merges.WriteString("spec:\n  <<: [*m29, *m29]\n")
	return map[string]string{
		// The reproduction: one 100 KB string aliased 10,000 times.
		"string alias": head + "spec:\n  image: x/y:1\n  workingDir: &s \"" + big + "\"\n  command: [" + strings.Repeat("*s, ", 10000) + "]\n",
		"string alias in env": head + "spec:\n  image: x/y:1\n  hostname: &s " + big + "\n  env: {" + func() string {
			var b strings.Builder
			for i := range 5000 {
				fmt.Fprintf(&b, "V%d: *s, ", i)
			}
			return b.String()
		}() + "}\n",
		"billion laughs":     laughs.String(),
		"merge keys":         merges.String(),
		"deep flow nesting":  fill(head+"spec: {image: x/y:1, command: ", "[", ""),
		"deep block nesting": fill(head+"spec:\n", "- ", "x\n"),
		"long scalar":        fill(head+"spec:\n  image: x/y:1\n  hostname: ", "a", "\n"),
		"many unknown keys":  fill(head+"spec:\n  image: x/y:1\n", "  k: v\n", ""),
		"many documents":     fill("", "---\n{}\n", ""),
		// Valid YAML, but a command line far over what Windows runs.
		"many list entries": fill(head+"spec:\n  image: x/y:1\n  command: [", "a,", "a]\n"),
		"many anchors":      fill(head+"spec:\n  image: x/y:1\n  command: [", "&a a,", "a]\n"),
	}
}

// head starts a manifest document, up to its spec.
const head = "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\n"
