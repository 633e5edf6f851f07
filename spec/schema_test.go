package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// schemaFile is the checked-in schema; regenerate it with
//
//	go run ./cmd/reconciler schema > spec/schema/container.schema.json
const schemaFile = "schema/container.schema.json"

// TestSchemaCheckedIn: the checked-in schema is the generated one.
func TestSchemaCheckedIn(t *testing.T) {
	want, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	// A checkout that turned line ends into CRLF holds the same schema.
	if !bytes.Equal(bytes.ReplaceAll(got, []byte("\r\n"), []byte("\n")), want) {
		t.Errorf("%s is not the schema the types make; regenerate it: go run ./cmd/reconciler schema > spec/%s", schemaFile, schemaFile)
	}
}

// compileSchema compiles the generated schema with a real validator, in
// the dialect it declares.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("container.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("container.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if sch.DraftVersion != 7 {
		t.Errorf("schema compiled as draft %d, want 7 (what yaml-language-server reads)", sch.DraftVersion)
	}
	return sch
}

// yamlDocuments reads every document of a YAML file as an editor's
// language server sees it (YAML 1.2, merge keys resolved), in the JSON
// form the validator takes.
func yamlDocuments(t *testing.T, data []byte) []any {
	t.Helper()
	var docs []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		if v == nil {
			continue
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
}

// notManifests are the YAML files under examples/ that are not manifests.
var notManifests = map[string]bool{
	"../examples/fleet/fleet.yaml":       true, // validate --fleet's host list
	"../examples/config/reconciler.yaml": true, // watch --config
}

// TestSchemaValidatesExamples: every manifest under examples/, and the
// manifest of every field, passes the schema.
func TestSchemaValidatesExamples(t *testing.T) {
	sch := compileSchema(t)
	files := []string{filepath.Join("testdata", "web.yaml")}
	err := filepath.WalkDir(filepath.Join("..", "examples"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsManifest(d.Name()) && !notManifests[filepath.ToSlash(path)] {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, filepath.Join("..", "examples", "safe-updates", "orders-web.yaml")) {
		t.Fatalf("examples not found: %q", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range yamlDocuments(t, data) {
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
}

// TestSchemaAgreesWithValidation: on each manifest, the schema and the
// validator give the same verdict; each bad one is refused by both.
func TestSchemaAgreesWithValidation(t *testing.T) {
	sch := compileSchema(t)
	tests := []struct {
		name  string
		yaml  string
		valid bool
	}{
		{name: "minimal", yaml: manifest(""), valid: true},
		{name: "every safe-update field", valid: true, yaml: manifest("  healthcheck:\n    exec: [cmd, /c, \"exit 0\"]\n    interval: 5s\n    timeout: 2s\n    retries: 3\n    startPeriod: 20s\n" +
			"  dependsOn:\n    - {name: db, condition: healthy}\n  update:\n    strategy: startFirst\n    progressDeadline: 2m\n    autoRollback: true\n" +
			"  restartLimit: {maxRestarts: 5, window: 10m}\n")},
		{name: "tcp check with startPeriod 0s", yaml: manifest("  healthcheck: {tcp: 80, startPeriod: 0s}\n"), valid: true},
		{name: "http check", yaml: manifest("  healthcheck: {http: {path: /healthz, port: 80}, interval: 1m30s}\n"), valid: true},
		{name: "numbers and booleans as strings", yaml: manifest("  hostname: 1\n  env: {COUNT: 3, DEBUG: true}\n  command: [ping, 8, -n]\n"), valid: true},
		{name: "memory of 0, no limit", yaml: manifest("  resources: {memoryMB: 0}\n"), valid: true},
		{name: "named pipes, the prefix in any case", yaml: manifest("  namedPipes: [{hostPipe: '\\\\.\\PIPE\\svc', containerPipe: '\\\\.\\pipe\\svc'}]\n"), valid: true},
		{name: "network namespace in braces", yaml: manifest("  network: {mode: nat, namespace: '{5f0d1c5e-3a4b-4c2d-9e8f-0a1b2c3d4e5f}'}\n"), valid: true},
		{name: "no hostname", yaml: manifest("  hostname: ''\n"), valid: true},
		{name: "no network namespace", yaml: manifest("  network: {namespace: ''}\n"), valid: true},
		{name: "device by location path", yaml: manifest("  devices: [{idType: vpci-location-path, id: 'PCIROOT(0)#PCI(0100)'}]\n"), valid: true},

		{name: "unknown field", yaml: manifest("  replicas: 2\n")},
		{name: "unknown healthcheck field", yaml: manifest("  healthcheck: {tcp: 80, command: [x]}\n")},
		{name: "misspelt dependency field", yaml: manifest("  dependsOn: [{name: db, conditon: healthy}]\n")},
		{name: "wrong apiVersion", yaml: strings.Replace(manifest(""), "reconciler/v1", "reconciler/v2", 1)},
		{name: "missing image", yaml: strings.Replace(manifest("  isolation: process\n"), "  image: mcr.microsoft.com/windows/servercore:ltsc2022\n", "", 1)},
		{name: "bad isolation", yaml: manifest("  isolation: hyper-v\n")},
		{name: "bad strategy", yaml: manifest("  update: {strategy: rolling}\n")},
		{name: "bad condition", yaml: manifest("  dependsOn: [{name: db, condition: ready}]\n")},
		{name: "bad protocol", yaml: manifest("  ports: [{hostPort: 80, containerPort: 80, protocol: sctp}]\n")},
		{name: "name in uppercase", yaml: strings.Replace(manifest(""), "name: web", "name: Web", 1)},
		{name: "duration without a unit", yaml: manifest("  healthcheck: {tcp: 80, interval: 5}\n")},
		{name: "duration in words", yaml: manifest("  healthcheck: {tcp: 80, timeout: 5 seconds}\n")},
		{name: "zero interval", yaml: manifest("  healthcheck: {tcp: 80, interval: 0s}\n")},
		{name: "zero progressDeadline", yaml: manifest("  update: {progressDeadline: 0.0m}\n")},
		{name: "negative window", yaml: manifest("  restartLimit: {maxRestarts: 1, window: -5m}\n")},
		{name: "two health check kinds", yaml: manifest("  healthcheck: {tcp: 80, http: {path: /, port: 80}}\n")},
		{name: "timing without a check", yaml: manifest("  healthcheck: {interval: 5s}\n")},
		{name: "empty healthcheck", yaml: manifest("  healthcheck: {}\n")},
		{name: "empty exec", yaml: manifest("  healthcheck: {exec: []}\n")},
		{name: "tcp 0", yaml: manifest("  healthcheck: {tcp: 0}\n")},
		{name: "http without a port", yaml: manifest("  healthcheck: {http: {path: /healthz}}\n")},
		{name: "http path without a slash", yaml: manifest("  healthcheck: {http: {path: healthz, port: 80}}\n")},
		{name: "retries 0", yaml: manifest("  healthcheck: {tcp: 80, retries: 0}\n")},
		{name: "maxRestarts without window", yaml: manifest("  restartLimit: {maxRestarts: 5}\n")},
		{name: "maxRestarts 0", yaml: manifest("  restartLimit: {maxRestarts: 0, window: 10m}\n")},
		{name: "restartLimit with restartPolicy never", yaml: manifest("  restartPolicy: never\n  restartLimit: {maxRestarts: 5, window: 10m}\n")},
		{name: "quoted port", yaml: manifest("  healthcheck: {tcp: '80'}\n")},
		{name: "YAML 1.1 boolean", yaml: manifest("  update: {autoRollback: yes}\n")},
		{name: "memory below 64 MB", yaml: manifest("  resources: {memoryMB: 32}\n")},
		{name: "port over 65535", yaml: manifest("  ports: [{hostPort: 80, containerPort: 70000}]\n")},
		{name: "dependsOn as names", yaml: manifest("  dependsOn: [db]\n")},
		{name: "named pipe without the prefix", yaml: manifest("  namedPipes: [{hostPipe: svc, containerPipe: '\\\\.\\pipe\\svc'}]\n")},
		{name: "network namespace not a GUID", yaml: manifest("  network: {namespace: default}\n")},
		{name: "network namespace with one brace", yaml: manifest("  network: {namespace: '{5f0d1c5e-3a4b-4c2d-9e8f-0a1b2c3d4e5f'}\n")},
		{name: "hostname not a DNS label", yaml: manifest("  hostname: web_1\n")},
		{name: "device class not a GUID", yaml: manifest("  devices: [{idType: class, id: usb}]\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := yamlDocuments(t, []byte(tt.yaml))
			schemaErr := sch.Validate(docs[0])
			if (schemaErr == nil) != tt.valid {
				t.Errorf("schema verdict: %v, want valid=%v", schemaErr, tt.valid)
			}
			_, ps := Parse(strings.NewReader(tt.yaml), "m.yaml")
			if (len(ps) == 0) != tt.valid {
				t.Errorf("validator verdict: %q, want valid=%v", renderProblems(ps), tt.valid)
			}
		})
	}
}

// TestSchemaDescribesEveryField: every field of the schema has a
// description, and every entry of schemaFields names a field the types
// have.
func TestSchemaDescribesEveryField(t *testing.T) {
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(path string, n map[string]any)
	walk = func(path string, n map[string]any) {
		seen[path] = true
		if props, ok := n["properties"].(map[string]any); ok {
			for name, p := range props {
				sub := joinPath(path, name)
				if d, _ := p.(map[string]any)["description"].(string); d == "" {
					t.Errorf("%s has no description", sub)
				}
				walk(sub, p.(map[string]any))
			}
		}
		if items, ok := n["items"].(map[string]any); ok {
			walk(path+"[]", items)
		}
		if values, ok := n["additionalProperties"].(map[string]any); ok {
			walk(path+"{}", values)
		}
	}
	walk("", root)
	for path := range schemaFields {
		if !seen[path] {
			t.Errorf("schemaFields[%q] names no field of the manifest", path)
		}
	}
}
