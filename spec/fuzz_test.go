package spec

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds the loader arbitrary files. Properties: it never panics,
// every container it returns is valid (Validate finds nothing) and placed
// in the file, and every problem has a message. The seed corpus is every
// manifest under testdata/.
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

	f.Fuzz(func(t *testing.T, data []byte) {
		cs, ps := Parse(bytes.NewReader(data), "fuzz.yaml")
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
		for _, p := range ps {
			if strings.TrimSpace(p.Message) == "" {
				t.Errorf("problem without a message: %+v", p)
			}
			if p.File != "fuzz.yaml" || p.Line < 0 {
				t.Errorf("problem misplaced: %+v", p)
			}
		}
	})
}
