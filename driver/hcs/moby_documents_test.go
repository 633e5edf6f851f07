package hcs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

// completeFields reads the top-level fields of the JSON object that starts
// at the first '{' of text, as far as the text goes: a document quoted in a
// bug report is often cut short, and only the fields it holds whole can be
// compared. Each value is compacted.
func completeFields(t *testing.T, text []byte) map[string]string {
	t.Helper()
	start := bytes.IndexByte(text, '{')
	if start < 0 {
		t.Fatal("no JSON object in the text")
	}
	dec := json.NewDecoder(bytes.NewReader(text[start:]))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	fields := make(map[string]string)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, ok := tok.(string)
		if !ok {
			t.Fatalf("object key %v is not a string", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break // the quote ends inside this value
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			t.Fatal(err)
		}
		fields[key] = b.String()
	}
	return fields
}

// TestMobyDocuments compares the schema1 document this driver builds with
// documents moby built for an equivalent container, field by field. Every
// field that differs must be listed in differences, and README.md must
// explain it; a listed difference that no longer differs fails too, so the
// list stays true. The fixtures and their provenance are in
// testdata/README.md ("moby/").
func TestMobyDocuments(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("testdata", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		mobyProcessID = "5e0055c814a6005b8e57ac59f9a522066e0af12b48b3c26a9416e23907698776"
		mobyHyperVID  = "475c2c58933b72687a88a441e7e0ca4bd72d76413c5f9d5031fee83b98f6045d"
		mobyBaseLayer = `C:\control\windowsfilter\65bf96e5760a09edf1790cb229e2dfb2dbd0fcdc0bf7451bae099106bfbfea0c`
		functionsID   = "748b8df85e852741f89247861aa226411732f4d710ad92265d2e39ac23d72c0a"
		forWinID      = "38d5975c4992c39b5ee8f5a46ad19f45435ff59b18523e3552c53b24ab23f1ca"
	)
	mobyLayers := []layerEntry{{ID: "18955d65-d45a-557b-bf1c-49d6dfefc526", Path: mobyBaseLayer}}
	docker := func(id, name string, iso spec.Isolation, scratch string) documentInput {
		return documentInput{
			ID: id, Name: name, Owner: "docker", Isolation: iso,
			Spec:        spec.ContainerSpec{Image: "mcr.microsoft.com/windows/servercore:ltsc2019", Isolation: iso},
			Parents:     mobyLayers,
			ScratchPath: scratch,
		}
	}
	tests := []struct {
		file string
		in   documentInput
		// differences are the fields that differ on purpose, each with
		// the gist of its README.md entry.
		differences map[string]string
	}{
		{
			file: "local_windows-process.json",
			in: func() documentInput {
				in := docker(mobyProcessID, mobyProcessID[:12], spec.IsolationProcess, `C:\control\windowsfilter\`+mobyProcessID)
				in.VolumePath = `\\?\Volume{66d1ef4c-7a00-11e6-8948-00155ddbef9d}`
				in.Endpoints = []string{"eef2649d-bb17-4d53-9937-295a8efe6f2c"}
				return in
			}(),
			differences: map[string]string{"MappedDirectories": "omitted when empty, as hcsshim's omitempty does"},
		},
		{
			file: "local_windows-hyperv.json",
			in: func() documentInput {
				in := docker(mobyHyperVID, mobyHyperVID[:12], spec.IsolationHyperV, `C:\control\windowsfilter\`+mobyHyperVID)
				in.UtilityVM = mobyBaseLayer + `\UtilityVM`
				in.Endpoints = []string{"e1bb1e61-d56f-405e-b75d-fd520cefa0cb"}
				return in
			}(),
			differences: map[string]string{
				"MappedDirectories": "omitted when empty",
				"LayerFolderPath":   "moby's code sets it for Hyper-V too; the comment leaves it out",
				"DNSSearchList":     "no manifest field",
			},
		},
		{
			file:        "azure-functions-359.txt",
			in:          docker(functionsID, "LoadData_14", spec.IsolationHyperV, `C:\ProgramData\docker\windowsfilter\`+functionsID),
			differences: map[string]string{"IsDummy": "gone from hcsshim's schema1"},
		},
		{
			file: "docker-for-win-10330.txt",
			in:   docker(forWinID, "web", spec.IsolationHyperV, `C:\ProgramData\Docker\windowsfilter\`+forWinID),
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			theirsText, err := os.ReadFile(filepath.Join("testdata", "moby", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			theirs := completeFields(t, theirsText)
			if tt.in.Isolation == spec.IsolationHyperV && tt.in.UtilityVM == "" {
				tt.in.UtilityVM = tt.in.Parents[0].Path + `\UtilityVM`
			}
			cfg, err := buildContainerConfig(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			oursJSON, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ours := completeFields(t, oursJSON)
			// A quote cut short holds only the fields before the cut; a
			// whole document is compared on every field either side has.
			keys := make(map[string]bool)
			for k := range theirs {
				keys[k] = true
			}
			if strings.HasSuffix(tt.file, ".json") {
				for k := range ours {
					keys[k] = true
				}
			}
			var sorted []string
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			compared := 0
			for _, k := range sorted {
				o, inOurs := ours[k]
				th, inTheirs := theirs[k]
				same := inOurs == inTheirs && o == th
				why, deliberate := tt.differences[k]
				switch {
				case same && deliberate:
					t.Errorf("%s: listed as a deliberate difference (%s) but equal now (%s): drop it from the test and README.md", k, why, o)
				case !same && !deliberate:
					t.Errorf("%s: ours %s, moby's %s: a difference nobody explained", k, orAbsent(o, inOurs), orAbsent(th, inTheirs))
				case !same && !bytes.Contains(readme, []byte("| `"+tt.file+"` | `"+k+"` |")):
					t.Errorf("%s: the difference (%s) has no row in testdata/README.md", k, why)
				}
				compared++
			}
			if compared < 5 {
				t.Errorf("only %d fields compared; the fixture is too short to say anything", compared)
			}
		})
	}
}

// orAbsent shows a field's value, or that it is absent.
func orAbsent(v string, ok bool) string {
	if !ok {
		return "(absent)"
	}
	return v
}
