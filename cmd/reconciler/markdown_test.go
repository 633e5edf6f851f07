package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/golden"
)

var updateMarkdown = flag.Bool("update", false, "rewrite the golden Markdown plans of testdata/markdown")

// TestMarkdownGolden renders every golden JSON plan of the renderers
// (reconcile/testdata/plans) as Markdown and compares it with
// testdata/markdown/NAME.md: the Markdown is a view of the JSON plan.
func TestMarkdownGolden(t *testing.T) {
	plans, err := filepath.Glob("../../reconcile/testdata/plans/*.json")
	if err != nil || len(plans) == 0 {
		t.Fatalf("no golden JSON plans found: %v", err)
	}
	for _, path := range plans {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := writeMarkdown(&got, doc); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "markdown", name+".md"), got.Bytes(), *updateMarkdown)
		})
	}
}

// TestMarkdownEscapes: text from manifests (names, images, messages) never
// becomes markup: no table cell split by a pipe, no HTML, no code span
// closed early.
func TestMarkdownEscapes(t *testing.T) {
	doc := `{"dryRun": true, "host": {"build": 20348, "revision": 1, "sku": "server", "defaultIsolation": "process"},
 "actions": [{"action": "create", "name": "web", "isolation": "process", "image": "reg|istry/x` + "`" + `y:1",
   "reason": "not running", "source": "a|b.yaml:1", "status": "planned", "error": ""}],
 "unchanged": ["db"], "warnings": [],
 "errors": [{"source": "bad.yaml", "line": 7, "name": "api", "message": "<script>alert(1)</script> *bold* [link](x) C:\\app\nnext"}]}`
	var got bytes.Buffer
	if err := writeMarkdown(&got, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	out := got.String()
	for _, want := range []string{
		"| + | web | create | process | ``reg\\|istry/x`y:1`` | not running (a\\|b.yaml:1) | planned |\n",
		"- `bad.yaml:7` api: &lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\* \\[link\\](x) C:\\\\app next\n",
		"Unchanged (1): db\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Errorf("HTML from a manifest reached the Markdown:\n%s", out)
	}
}

// TestOutputMarkdown: -o markdown is reconcile's only; every other command
// refuses it, and reconcile's exit codes are those of -o json.
func TestOutputMarkdown(t *testing.T) {
	state := filepath.Join(t.TempDir(), "host.json")
	tests := []struct {
		args     []string
		wantErr  string
		wantCode int
		wantOut  string
	}{
		{args: []string{"reconcile", "--dry-run", "--detailed-exitcode", "-o", "markdown", "../../examples/manifests"}, wantCode: 2,
			wantOut: "### reconciler: 4 to create, 0 to recreate, 0 to remove, 0 unchanged; 0 error(s), 0 warning(s)\n"},
		{args: []string{"validate", "-o", "markdown", "../../examples/manifests"}, wantErr: `--output markdown: only "reconciler reconcile" prints Markdown`},
		{args: []string{"status", "-o", "markdown"}, wantErr: `--output markdown: only "reconciler reconcile" prints Markdown`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:1], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"--driver", "sim", "--sim-state", state}, tt.args...), &stdout, &stderr)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			case tt.wantCode != 0:
				if ee, ok := errors.AsType[*exitError](err); !ok || ee.code != tt.wantCode {
					t.Fatalf("err = %v, want exit %d", err, tt.wantCode)
				}
			case err != nil:
				t.Fatal(err)
			}
			if !strings.HasPrefix(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), tt.wantOut)
			}
		})
	}
}
