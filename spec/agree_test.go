package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// TestDecodeAgreesWithSigsYAML: on manifests that hold only unambiguous
// scalars (every bundled example and valid test manifest), the decoder
// gives exactly what sigs.k8s.io/yaml, the JSON-tag decoder the plan and
// schema share, gives. Where they part is only where the user's text would
// be reinterpreted (TestParseScalarsAsWritten).
func TestDecodeAgreesWithSigsYAML(t *testing.T) {
	var files []string
	for _, glob := range []string{"testdata/web.yaml", "testdata/multi.yaml", "testdata/anchors.yaml", "../examples/manifests/*.yaml"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			docs := splitDocuments(data)
			if len(docs) == 0 {
				t.Fatal("no documents")
			}
			for _, d := range docs {
				budget := ExpandBudget
				ours := new(Container)
				ok, ps := parseDocument(d, file, &budget, ours)
				if len(ps) > 0 || !ok {
					t.Fatalf("line %d: %v", d.line, ps)
				}
				var theirs Container
				if err := sigsyaml.UnmarshalStrict(d.data, &theirs); err != nil {
					t.Fatalf("line %d: sigs.k8s.io/yaml: %v", d.line, err)
				}
				theirs.ApplyDefaults()
				theirs.Origin = ours.Origin
				if !reflect.DeepEqual(*ours, theirs) {
					t.Errorf("line %d: decoded\n%+v\nsigs.k8s.io/yaml decoded\n%+v", d.line, *ours, theirs)
				}
			}
		})
	}
}
