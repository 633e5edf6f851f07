package spec

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/reconciler/reconciler/spec/spectest"
)

// sameTree returns where fastTree's tree a differs from yaml.v3's b, ""
// when they agree on all the decoder reads: kind, style, tag (as
// ShortTag resolves it), value, line, column, and children.
func sameTree(a, b *yaml.Node, at string) string {
	switch {
	case a.Kind != b.Kind:
		return fmt.Sprintf("%s: kind %v, yaml.v3 %v", at, a.Kind, b.Kind)
	case a.Style != b.Style:
		return fmt.Sprintf("%s: style %v, yaml.v3 %v", at, a.Style, b.Style)
	case a.ShortTag() != b.ShortTag():
		return fmt.Sprintf("%s: tag %s, yaml.v3 %s", at, a.ShortTag(), b.ShortTag())
	case a.Value != b.Value:
		return fmt.Sprintf("%s: value %q, yaml.v3 %q", at, a.Value, b.Value)
	case a.Line != b.Line || a.Column != b.Column:
		return fmt.Sprintf("%s: at %d:%d, yaml.v3 %d:%d", at, a.Line, a.Column, b.Line, b.Column)
	case a.Anchor != b.Anchor || a.Alias != nil || b.Alias != nil:
		return fmt.Sprintf("%s: anchor or alias", at)
	case len(a.Content) != len(b.Content):
		return fmt.Sprintf("%s: %d children, yaml.v3 %d", at, len(a.Content), len(b.Content))
	case isNull(a) != isNull(b) || isMergeKey(a) != isMergeKey(b):
		return fmt.Sprintf("%s: null or merge key read differently", at)
	}
	for i := range a.Content {
		if d := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkFastTree fails t when fastTree answers for data with a tree
// yaml.v3 does not build, and reports whether it answered.
func checkFastTree(t *testing.T, data []byte) bool {
	t.Helper()
	got, _, ok := fastTree(data)
	if !ok {
		return false
	}
	want, err := v3Tree(data)
	switch {
	case err != nil:
		t.Fatalf("fastTree read %q, which yaml.v3 refuses: %v", data, err)
	case want == nil:
		t.Fatalf("fastTree read %q, an empty document to yaml.v3", data)
	}
	if d := sameTree(got, want, "root"); d != "" {
		t.Fatalf("fastTree and yaml.v3 differ on %q: %s", data, d)
	}
	return true
}

func TestFastTree(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// fast says whether fastTree reads it (else yaml.v3 does).
		fast bool
	}{
		{"bench manifest", benchShaped, true},
		{"block lists", "a:\n  - x\n  - 'y'\n  - \"z\"\nb:\n- 1\n- -2\nc: d\n", true},
		{"list of mappings", "ports:\n  - hostPort: 80\n    containerPort: 80\n  - hostPort: 81\n    # between\n    containerPort: 81\nname: x\n", true},
		{"indentless list of mappings", "ports:\n- hostPort: 80\n  containerPort: 80\n- {hostPort: 81}\nname: x\n", true},
		{"nested values", "a:\n  b:\n    c: d\n  e:\n  - f\n  - g: h\n    i:\n      j: k\nl: m\n", true},
		{"comments and blanks", "# head\n\n---\n# c\na: b # trailing\n\n  # indented comment\nc: 'd' # after quotes\ne: [f] #x\n", true},
		{"CRLF", "a: b\r\nc:\r\n  - d\r\n", true},
		{"quotes", "a: 'it''s'\nb: \"C:/x\"\nc: ''\nd: \"\"\ne: '#not a comment'\n", true},
		{"plain scalars", "a: b c  d\nb: x:y\nc: http://host:80/p#frag\nd: 1.10\ne: 0123\nf: yes\ng: ~\nh: null\ni: 2001-12-14\nk: a, b [c] {d}\n", true},
		{"flow", "a: [ping, localhost, -t]\nb: {x: 1, y: [2, 3], z: {w: v}}\nc: []\nd: {}\ne: [ 'a' , \"b\" ]\nf: [a b, c]\n", true},
		{"keys", "true: 1\n1: 2\na b: 3\nx#y: 4\nk  : 5\n~: 6\n", true},
		{"indented root", "  a: b\n  c:\n  - d\n", true},

		{"anchor", "a: &x b\nc: *x\n", false},
		{"merge key", "a: {x: 1}\n<<: {y: 2}\n", false},
		{"merge key's spelling as a value", "a: <<\n", false},
		{"merge key's spelling in flow", "a: [<<]\n", false},
		{"tag", "a: !!str 1\n", false},
		{"block scalar", "a: |\n  b\n", false},
		{"folded", "a: >\n  b\n", false},
		{"multi-line plain", "a: b\n  c\n", false},
		{"multi-line flow", "a: [b,\n  c]\n", false},
		{"multi-line quoted", "a: 'b\n  c'\n", false},
		{"escape", "a: \"C:\\app\"\n", false},
		{"empty value", "a:\nb: c\n", false},
		{"empty value at the end", "a: b\nc:\n", false},
		{"empty item", "a:\n-\n- b\n", false},
		{"list in a list", "a:\n- - b\n", false},
		{"quoted key", "'a': b\n", false},
		{"complex key", "? a\n: b\n", false},
		{"tab", "a:\tb\n", false},
		{"non-ASCII", "# § 2\na: é\nb: [ü, {ö: 'ä'}]\nc: \"日本\" # ✓\nd: 😀 x\n", true},
		{"invalid UTF-8", "a: \xff\n", false},
		{"LS", "a: b\u2028c\n", false},
		{"byte order mark inside", "a: \ufeffb\n", false},
		{"C1 control", "a: \u0080\n", false},
		{"NEL", "a: b\u0085c\n", false},
		{"lone CR", "a: b\rc: d\n", false},
		{"control character", "a: b\x07\n", false},
		{"root list", "- a\n", false},
		{"root scalar", "a\n", false},
		{"flow root", "{a: b}\n", false},
		{"directive", "%YAML 1.2\n---\na: b\n", false},
		{"marker with content", "--- a: b\n", false},
		{"end marker", "a: b\n...\n", false},
		{"bad indent", "a:\n    b: c\n  d: e\n", false},
		{"dedent into nothing", "  a: b\nc: d\n", false},
		{"list at a key's column", "a: b\n- c\n", false},
		{"mapping value in a value", "a: b: c\n", false},
		{"no space after colon", "a:b\n", false},
		{"trailing colon", "a: b:\n", false},
		{"colon in flow", "a: {b: mcr.io/x:1}\n", false},
		{"pair in flow list", "a: [b: c]\n", false},
		{"trailing comma", "a: [b, c,]\n", false},
		{"empty flow entry", "a: [b, , c]\n", false},
		{"after quotes", "a: 'b' c\n", false},
		{"comment without blank", "a: 'b'#c\n", false},
		{"alias start", "a: *b\n", false},
		{"reserved start", "a: @b\n", false},
		{"empty document", "# nothing\n", false},
		{"long key", strings.Repeat("k", maxSimpleKey) + ": v\n", false},
		{"deep flow", "a: " + strings.Repeat("[", maxFlowDepth+1) + strings.Repeat("]", maxFlowDepth+1) + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkFastTree(t, []byte(tt.doc)); got != tt.fast {
				t.Errorf("fastTree read it: %v, want %v", got, tt.fast)
			}
		})
	}
}

// benchShaped is one of the manifests bench/decodefloor writes 10,000 of.
var benchShaped = spectest.DryRunManifest(1)

// TestFastTreeReadsTheExamples keeps the fast path for what operators
// write: every document of the bundled examples is read by fastTree, or
// the loader is back to yaml.v3's cost for them.
func TestFastTreeReadsTheExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range splitDocuments(data) {
			if !checkFastTree(t, d.data) {
				t.Errorf("%s:%d: fastTree does not read this document; yaml.v3 does", f, d.line)
			}
		}
	}
}

// FuzzFastTree holds fastTree to yaml.v3: wherever it reads a document,
// yaml.v3 reads it too, into the same tree.
func FuzzFastTree(f *testing.F) {
	f.Add([]byte(benchShaped))
	for _, seed := range []string{
		"a:\n- b: c\n  d: [e, {f: g}]\n- 'h'\n",
		"a: b # c\nd:\n  e: \"f\"\n",
		"---\na: b\r\n",
	} {
		f.Add([]byte(seed))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.yaml"))
	for _, file := range append(files, examples...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastTree(t, data)
	})
}

// TestFastTreeGenerated writes documents of every shape fastTree reads —
// nested block mappings and lists (indented or not), compact mappings in
// lists, flow collections, quoted and plain scalars that YAML could read
// several ways, comments, blank lines, CRLF — and checks fastTree reads
// each into yaml.v3's tree.
func TestFastTreeGenerated(t *testing.T) {
	for seed := range uint64(3000) {
		g := treeGen{r: rand.New(rand.NewPCG(seed, 14))}
		if g.r.IntN(4) == 0 {
			g.line(0, "---")
		}
		g.mapping(g.r.IntN(2), 0)
		doc := g.b.String()
		if g.r.IntN(4) == 0 {
			doc = strings.ReplaceAll(doc, "\n", "\r\n")
		}
		if !checkFastTree(t, []byte(doc)) {
			t.Fatalf("seed %d: fastTree does not read:\n%s", seed, doc)
		}
	}
}

// treeGen writes a random document of the shape fastTree reads.
type treeGen struct {
	r *rand.Rand
	b strings.Builder
}

var (
	genKeys = []string{"image", "name", "a b", "true", "1", "~", "x#y", "é", "-k", "k-", "LOG_LEVEL"}
	// genPlain can be written plain anywhere; genBlockPlain only outside
	// flow collections.
	genPlain      = []string{"web", "8080", "1.10", "0123", "yes", "null", "~", "true", "2001-12-14", ".inf", "-t", "a b", "a'b", `a"b`, `C\app`, "ünï", "0x1F", "+1", "a!b"}
	genBlockPlain = []string{`C:\app`, "x:y", "mcr.microsoft.com/windows/servercore:ltsc2022", "http://h:80/p#f", "a, b", "y[x]", "b{a}", "a #", "<<x"}
	genQuoted     = []string{`'it''s'`, `'C:\data'`, `''`, `""`, `"a: b"`, `"# x"`, `'\\.\pipe\x'`, `"ünï"`}
)

func (g *treeGen) pick(from ...[]string) string {
	all := slices.Concat(from...)
	return all[g.r.IntN(len(all))]
}

func (g *treeGen) line(indent int, s string) {
	g.b.WriteString(strings.Repeat(" ", indent) + s)
	if g.r.IntN(8) == 0 {
		g.b.WriteString("  # note")
	}
	g.b.WriteString("\n")
	switch g.r.IntN(10) {
	case 0:
		g.b.WriteString("\n")
	case 1:
		g.b.WriteString(strings.Repeat(" ", g.r.IntN(6)) + "# comment\n")
	}
}

// scalar returns a one-line value: plain, quoted or a flow collection.
func (g *treeGen) scalar(depth int) string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick(genQuoted)
	case 1:
		if depth < 3 {
			return g.flow(depth)
		}
	}
	return g.pick(genPlain, genBlockPlain)
}

func (g *treeGen) flow(depth int) string {
	var items []string
	n := g.r.IntN(4)
	m := g.r.IntN(2) == 0
	for range n {
		v := g.pick(genPlain, genQuoted)
		if depth < 3 && g.r.IntN(4) == 0 {
			v = g.flow(depth + 1)
		}
		if m {
			v = strings.ReplaceAll(g.pick(genKeys), "#", "") + ": " + v
		}
		items = append(items, v)
	}
	sep := ", "
	if g.r.IntN(3) == 0 {
		sep = " ,  "
	}
	if m {
		return "{" + strings.Join(items, sep) + "}"
	}
	return "[" + strings.Join(items, sep) + "]"
}

// mapping writes a block mapping at indent, depth levels deep.
func (g *treeGen) mapping(indent, depth int) {
	for i := range 1 + g.r.IntN(4) {
		g.entry(indent, depth, i == 0, "")
	}
}

// entry writes one "key: value"; first marks the first key of a mapping,
// prefix is what comes before the key on its line ("- " in a list).
func (g *treeGen) entry(indent, depth int, first bool, prefix string) {
	key := g.pick(genKeys)
	if !first && g.r.IntN(2) == 0 {
		key += strings.Repeat(" ", 1+g.r.IntN(2))
	}
	col := indent
	if prefix != "" {
		col -= len(prefix)
	}
	switch {
	case depth >= 3 || g.r.IntN(3) > 0:
		g.line(col, prefix+key+": "+g.scalar(depth))
	case g.r.IntN(2) == 0:
		g.line(col, prefix+key+":")
		g.mapping(indent+2+2*g.r.IntN(2), depth+1)
	default:
		g.line(col, prefix+key+":")
		g.list(indent+2*g.r.IntN(2), depth+1)
	}
}

// list writes a block list whose dashes are at indent.
func (g *treeGen) list(indent, depth int) {
	for range 1 + g.r.IntN(3) {
		if depth < 3 && g.r.IntN(3) == 0 {
			g.entry(indent+2, depth+1, true, "- ")
			for range g.r.IntN(3) {
				g.entry(indent+2, depth+1, false, "")
			}
			continue
		}
		g.line(indent, "- "+g.scalar(depth))
	}
}

// TestDecodedKeepsNoComments: containers read by the fast path keep their
// values, not their documents' text. Each of n documents carries a 20 KB
// comment; were the strings cut from the document, holding the containers
// would hold every comment too.
func TestDecodedKeepsNoComments(t *testing.T) {
	const n, comment = 200, 20 << 10
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = []byte("# " + strings.Repeat("x", comment) + "\n" + strings.Replace(benchShaped, "app-1", fmt.Sprintf("app-%d", i), 1))
		if _, _, ok := fastTree(docs[i]); !ok {
			t.Fatal("the fast path does not read the document")
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	held := make([][]Container, n)
	for i, doc := range docs {
		cs, ps := ParseData(doc, "c.yaml")
		if len(cs) != 1 || len(ps) != 0 {
			t.Fatalf("got %d containers, problems %v", len(cs), ps)
		}
		held[i] = cs
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(docs) // counted in both
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > n*comment/4 {
		t.Errorf("holding %d containers holds %d KB: their documents' comments (%d KB) are held too", n, grown>>10, n*comment>>10)
	}
	if held[n-1][0].Metadata.Name != fmt.Sprintf("app-%d", n-1) || held[0][0].Spec.Env["LOG_LEVEL"] != "info" {
		t.Errorf("decoded %+v", held[n-1][0])
	}
}
