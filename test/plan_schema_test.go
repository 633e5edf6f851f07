package test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestScriptPlansMatchTheSchema checks the JSON plans the scripts compare
// the binary's output with (their want/*.json files) against the plan's
// JSON Schema, so the schema holds of what the binary prints, not only of
// the renderer's golden plans.
func TestScriptPlansMatchTheSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	sch, err := c.Compile(filepath.Join("..", "reconcile", "testdata", "plan.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, script := range scripts {
		a, err := txtar.ParseFile(script)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if !strings.HasPrefix(f.Name, "want/") || !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			// A script that echoes its exit code after the plan (exit=N)
			// compares both: the plan is what comes before.
			plan, _, _ := bytes.Cut(f.Data, []byte("\nexit="))
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(plan))
			if err != nil {
				t.Errorf("%s: %s: %v", script, f.Name, err)
				continue
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%s: %s does not match the plan schema: %v", script, f.Name, err)
			}
			n++
		}
	}
	if n < 4 {
		t.Errorf("%d JSON plans in the scripts' golden files, want at least 4", n)
	}
}
