package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/spec"
)

// TestSchemaCommand: `reconciler schema` prints the checked-in schema
// byte for byte (so `reconciler schema > file` regenerates it), -o json
// the same, -o yaml the same data as YAML.
func TestSchemaCommand(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	checkedIn, err := os.ReadFile(filepath.Join("..", "..", "spec", "schema", "container.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkedIn = bytes.ReplaceAll(checkedIn, []byte("\r\n"), []byte("\n")) // a CRLF checkout
	generated, err := spec.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"schema"}, {"-o", "json", "schema"}} {
		out, err := runSim(t, state, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out != string(checkedIn) || out != string(generated) {
			t.Errorf("%v does not print the checked-in schema:\n%s", args, out)
		}
	}
	out, err := runSim(t, state, "-o", "yaml", "schema")
	if err != nil {
		t.Fatal(err)
	}
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal([]byte(out), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(generated, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, fromJSON) || out[0] == '{' {
		t.Errorf("schema -o yaml is not the schema as YAML:\n%s", out)
	}
	if _, err := runSim(t, state, "schema", "extra"); err == nil {
		t.Error("schema with an argument: no error")
	}
}

// TestValidateSafeUpdatesExample: the example of safe updates is valid
// (the emulated host runs Windows Server 2022 as its images need).
func TestValidateSafeUpdatesExample(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	if out, err := runSim(t, state, "validate", filepath.Join("..", "..", "examples", "safe-updates")); err != nil {
		t.Fatalf("validate examples/safe-updates: %v\n%s", err, out)
	}
}
