package spec

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds the loader arbitrary files. Properties: it never panics,
// every container it returns is valid (Validate finds nothing) and placed
// in the file, every problem has a message, and loading stays within the
// bound of any file: at most maxBombAlloc allocated, and, while fuzzing
// (-fuzz, where the machine is given to it), at most maxParseTime. The
// seed corpus is every manifest under testdata/ and every bomb.
// maxParseTime is the longest loading any one file may take (the issue's
// bound) in CPU time, so that other work on the machine does not count;
// checked while fuzzing and measured by BenchmarkParseBombs.
const maxParseTime = 2 * time.Second

func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsManifest(d.Name()) {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil {
			f.Add(data)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(manifest("  env: {A: x}\n  <<: {hostname: web}\n  Image: y\n")))
	f.Add([]byte("a: &a [*a]\n---\n- *x\n"))
	// The fields of safe updates: valid, and wrong in each way validation
	// knows.
	f.Add([]byte(healthcheck(`exec: [cmd, /c, "exit 0"]`, "interval: 5s", "timeout: 2s", "retries: 3", "startPeriod: 20s") +
		"  dependsOn:\n    - {name: db, condition: healthy}\n  update: {strategy: startFirst, progressDeadline: 2m, autoRollback: true}\n" +
		"  restartLimit: {maxRestarts: 5, window: 10m}\n"))
	f.Add([]byte(healthcheck("tcp: 0", "http: {path: healthz}", "interval: 5", "retries: 0", "startPeriod: -1s") +
		"  dependsOn: [{name: web}, {name: db, condition: ''}, {name: db}]\n  update: {strategy: '', progressDeadline: 0s}\n" +
		"  restartPolicy: never\n  restartLimit: {maxRestarts: 0}\n"))
	f.Add([]byte(manifest("  healthcheck: &h {http: {path: /, port: 80}, <<: {timeout: 1h}}\n  update: {<<: *h}\n")))
	f.Add([]byte(named("a", dependsOn("b:healthy")) + "---\n" + named("b", dependsOn("c")) + "---\n" + named("c", dependsOn("a", "d")) + "---\n" + named("d", tcpCheck)))
	for _, b := range Bombs() {
		f.Add([]byte(b))
	}
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""

	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := cpuTime()
		cs, ps := Parse(bytes.NewReader(data), "fuzz.yaml")
		elapsed := cpuTime() - start
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxBombAlloc {
			t.Errorf("Parse of %d bytes allocated %d MB, over %d MB", len(data), alloc>>20, maxBombAlloc>>20)
		}
		if fuzzing && elapsed > maxParseTime {
			t.Errorf("Parse of %d bytes took %v of CPU, over %v", len(data), elapsed, maxParseTime)
		}
		for _, c := range cs {
			if c.Origin.File != "fuzz.yaml" || c.Origin.Line < 1 {
				t.Errorf("container %q has origin %q", c.Metadata.Name, c.Origin)
			}
			if got := Validate(&c); len(got) > 0 {
				t.Errorf("returned container %q does not validate:\n%s", c.Metadata.Name, renderProblems(got))
			}
			if h := c.Spec.Hash(); !strings.HasPrefix(h, hashVersion) {
				t.Errorf("hash %q", h)
			}
		}
		// Across the set (names, ports, dependsOn): a container is left
		// out only with a problem, and every container kept has what it
		// waits for kept too.
		kept, setProblems := CheckUnique(cs)
		if len(kept) > len(cs) || (len(kept) < len(cs)) != (len(setProblems) > 0) {
			t.Errorf("CheckUnique kept %d of %d containers with %d problems", len(kept), len(cs), len(setProblems))
		}
		for _, c := range kept {
			for _, d := range c.Spec.DependsOn {
				if !slices.ContainsFunc(kept, func(o Container) bool { return o.Metadata.Name == d.Name }) {
					t.Errorf("%s is kept, waiting for %s, which is not", c.Metadata.Name, d.Name)
				}
			}
		}
		for _, p := range append(ps, setProblems...) {
			if strings.TrimSpace(p.Message) == "" {
				t.Errorf("problem without a message: %+v", p)
			}
			if p.File != "fuzz.yaml" || p.Line < 0 {
				t.Errorf("problem misplaced: %+v", p)
			}
		}
	})
}
