package reconcile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reconciler/reconciler/spec"
)

// planSchemaPath is the JSON Schema of WriteJSON's output, written by hand
// and kept true by the tests below.
const planSchemaPath = "testdata/plan.schema.json"

// The values of the plan's enumerated types, as the schema must list them
// (reflection cannot enumerate constants).
var (
	allActionKinds = []ActionKind{ActionCreate, ActionRecreate, ActionRemove}
	allStatuses    = []Status{StatusPlanned, StatusDone, StatusFailed, StatusHeld}
	schemaEnums    = map[reflect.Type][]string{
		reflect.TypeFor[ActionKind]():          stringsOf(allActionKinds),
		reflect.TypeFor[Status]():              stringsOf(allStatuses),
		reflect.TypeFor[spec.SKU]():            {string(spec.SKUServer), string(spec.SKUClient)},
		reflect.TypeFor[spec.UpdateStrategy](): {string(spec.UpdateRecreate), string(spec.UpdateStartFirst)},
		reflect.TypeFor[spec.Isolation]():      {string(spec.IsolationProcess), string(spec.IsolationHyperV)}, // resolved: never default
	}
)

func stringsOf[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func compilePlanSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	sch, err := c.Compile(planSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestPlanSchemaValidatesGoldenPlans(t *testing.T) {
	sch := compilePlanSchema(t)
	files, err := filepath.Glob(filepath.Join(goldenPlansDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(renderCases) {
		t.Fatalf("%d golden JSON plans, want one per render case (%d)", len(files), len(renderCases))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s does not match %s: %v", f, planSchemaPath, err)
		}
	}
}

// TestPlanSchemaRefusesWhatNoPlanIs gives the schema teeth: each edit of a
// valid plan makes one that WriteJSON never writes.
func TestPlanSchemaRefusesWhatNoPlanIs(t *testing.T) {
	sch := compilePlanSchema(t)
	base := func() map[string]any {
		return map[string]any{
			"dryRun": false,
			"host":   map[string]any{"build": 20348, "revision": 1, "sku": "server", "defaultIsolation": "process"},
			"actions": []any{map[string]any{"action": "remove", "name": "old", "isolation": "process", "image": img2022,
				"reason": "no longer declared", "source": "", "status": "done", "error": ""}},
			"unchanged": []any{"db"},
			"errors":    []any{map[string]any{"source": "bad.yaml", "line": 3, "name": "api", "message": "boom"}},
			"warnings":  []any{},
		}
	}
	action := func(doc map[string]any) map[string]any { return doc["actions"].([]any)[0].(map[string]any) }
	tests := []struct {
		name string
		edit func(doc map[string]any)
	}{
		{"unknown top-level field", func(d map[string]any) { d["extra"] = 1 }},
		{"no errors list", func(d map[string]any) { delete(d, "errors") }},
		{"null actions", func(d map[string]any) { d["actions"] = nil }},
		{"unknown status", func(d map[string]any) { action(d)["status"] = "skipped" }},
		{"unknown action kind", func(d map[string]any) { action(d)["action"] = "restart" }},
		{"unresolved isolation", func(d map[string]any) { action(d)["isolation"] = "default" }},
		{"held without a reason", func(d map[string]any) { action(d)["status"] = "held" }},
		{"hold reason on a done action", func(d map[string]any) { action(d)["holdReason"] = "why" }},
		{"held create", func(d map[string]any) {
			a := action(d)
			a["action"], a["source"], a["status"], a["holdReason"] = "create", "web.yaml:1", "held", "why"
		}},
		{"failed without an error", func(d map[string]any) { action(d)["status"] = "failed" }},
		{"error on a done action", func(d map[string]any) { action(d)["error"] = "boom" }},
		{"done in a dry run", func(d map[string]any) { d["dryRun"] = true }},
		{"create without a source", func(d map[string]any) { action(d)["action"] = "create" }},
		{"removal with a source", func(d map[string]any) { action(d)["source"] = "old.yaml:1" }},
		{"negative line", func(d map[string]any) { d["errors"].([]any)[0].(map[string]any)["line"] = -1 }},
		{"unknown sku", func(d map[string]any) { d["host"].(map[string]any)["sku"] = "datacenter" }},
	}
	if err := sch.Validate(roundTrip(t, base())); err != nil {
		t.Fatalf("the unedited plan is refused: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := base()
			tc.edit(doc)
			if err := sch.Validate(roundTrip(t, doc)); err == nil {
				t.Errorf("the schema accepts a plan with %s", tc.name)
			}
		})
	}
}

// roundTrip turns a Go value into the instance jsonschema validates.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestPlanSchemaCoversJSONTypes keeps the schema in step with the JSON
// types of render.go: every field they write is a property (required
// unless omitempty) of the right JSON type, every property is a field,
// objects allow nothing else, and enums list exactly the Go constants.
func TestPlanSchemaCoversJSONTypes(t *testing.T) {
	data, err := os.ReadFile(planSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	w := schemaWalk{t: t, defs: asMap(root["$defs"])}
	w.check("plan", reflect.TypeFor[planJSON](), root)
}

// schemaWalk compares a Go type with a schema node, recursively.
type schemaWalk struct {
	t    *testing.T
	defs map[string]any
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// resolve follows a node's local $ref.
func (w schemaWalk) resolve(path string, node map[string]any) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	def := asMap(w.defs[name])
	if !ok || def == nil {
		w.t.Errorf("%s: $ref %q names no entry of $defs", path, ref)
		return map[string]any{}
	}
	return def
}

func (w schemaWalk) check(path string, typ reflect.Type, node map[string]any) {
	node = w.resolve(path, node)
	if typ.Kind() == reflect.Pointer { // omitted when nil: the value's type
		typ = typ.Elem()
	}
	wantType := map[reflect.Kind]string{reflect.Struct: "object", reflect.Slice: "array", reflect.String: "string",
		reflect.Bool: "boolean", reflect.Int: "integer", reflect.Uint32: "integer"}[typ.Kind()]
	if wantType == "" {
		w.t.Errorf("%s: Go kind %s: teach this test its JSON type", path, typ.Kind())
		return
	}
	if got := node["type"]; got != wantType {
		w.t.Errorf("%s: schema type %v, want %q (Go %s)", path, got, wantType, typ)
	}
	switch typ.Kind() {
	case reflect.Struct:
		w.checkObject(path, typ, node)
	case reflect.Slice:
		w.check(path+"[]", typ.Elem(), asMap(node["items"]))
	case reflect.String:
		w.checkEnum(path, typ, node)
	}
}

func (w schemaWalk) checkObject(path string, typ reflect.Type, node map[string]any) {
	if node["additionalProperties"] != false {
		w.t.Errorf("%s: the schema allows properties the plan never has: set additionalProperties false", path)
	}
	props := asMap(node["properties"])
	var required []string
	list, _ := node["required"].([]any)
	for _, r := range list {
		required = append(required, r.(string))
	}
	fields := map[string]bool{}
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = true
		prop, ok := props[name]
		if !ok {
			w.t.Errorf("%s.%s (%s.%s) is missing from %s", path, name, typ.Name(), f.Name, planSchemaPath)
			continue
		}
		omitempty := slices.Contains(strings.Split(opts, ","), "omitempty")
		if isRequired := slices.Contains(required, name); isRequired == omitempty {
			w.t.Errorf("%s.%s: required is %t, want %t (omitempty %t)", path, name, isRequired, !omitempty, omitempty)
		}
		w.check(path+"."+name, f.Type, asMap(prop))
	}
	for name := range props {
		if !fields[name] {
			w.t.Errorf("%s.%s is in the schema but %s has no such field", path, name, typ.Name())
		}
	}
}

func (w schemaWalk) checkEnum(path string, typ reflect.Type, node map[string]any) {
	want, typed := schemaEnums[typ]
	if typ == reflect.TypeFor[string]() {
		if node["enum"] != nil {
			w.t.Errorf("%s: a plain string with an enum in the schema: give it a Go type", path)
		}
		return
	}
	if !typed {
		w.t.Errorf("%s: Go type %s: list its values in schemaEnums", path, typ)
		return
	}
	enum, _ := node["enum"].([]any)
	var got []string
	for _, v := range enum {
		s, _ := v.(string)
		got = append(got, s)
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		w.t.Errorf("%s: schema enum %q, want %q (the %s constants)", path, got, want, typ)
	}
}
