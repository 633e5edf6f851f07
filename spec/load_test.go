package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// origins renders containers as name@file:line.
func origins(cs []Container) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Metadata.Name + "@" + c.Origin.String()
	}
	return out
}

func TestParseDocuments(t *testing.T) {
	valid := func(name string) string {
		return "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: " + name + "}\nspec: {image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'}\n"
	}
	tests := []struct {
		name string
		yaml string
		want []string // name@file:line of each container
		errs []want
	}{
		{name: "empty file", yaml: "", errs: []want{{"", 0, "declares nothing"}}},
		{name: "only comments and markers", yaml: "# nothing\n---\n# still nothing\n---\n...\n", errs: []want{{"", 0, "declares nothing"}}},
		{name: "null document", yaml: "--- ~\n---\nnull\n", errs: []want{{"", 0, "declares nothing"}}},
		{name: "a null document beside a container", yaml: "--- ~\n---\n" + valid("a"), want: []string{"a@m.yaml:3"}},
		{name: "one document after a comment", yaml: "# web\n\n" + valid("web"), want: []string{"web@m.yaml:3"}},
		{name: "leading marker", yaml: "---\n" + valid("web"), want: []string{"web@m.yaml:2"}},
		{name: "marker with a comment", yaml: valid("a") + "--- # next\n" + valid("b"), want: []string{"a@m.yaml:1", "b@m.yaml:6"}},
		{name: "content on the marker line", yaml: valid("a") + "--- {apiVersion: reconciler/v1, kind: Container, metadata: {name: b}, spec: {image: 'x/y:1'}}\n",
			want: []string{"a@m.yaml:1", "b@m.yaml:5"}},
		{name: "document end marker", yaml: valid("a") + "...\n" + valid("b"), want: []string{"a@m.yaml:1", "b@m.yaml:6"}},
		// "----" is a plain scalar; YAML gives up at the end of the document.
		{name: "four dashes are not a marker", yaml: valid("a") + "----\n",
			want: []string{}, errs: []want{{"", 5, "invalid YAML: could not find expected ':'"}}},
		{name: "CRLF line endings", yaml: strings.ReplaceAll(valid("a")+"---\n"+valid("B"), "\n", "\r\n"),
			want: []string{"a@m.yaml:1"}, errs: []want{{"metadata.name", 8, "DNS label"}}},
		{name: "directive", yaml: "%YAML 1.2\n---\n" + valid("a"), want: []string{"a@m.yaml:3"}},
		{name: "byte order mark", yaml: "\xef\xbb\xbf" + valid("a"), want: []string{"a@m.yaml:1"}},
		{name: "errors in the second and third documents", yaml: valid("a") + "---\n" + valid("B") + "---\n# third\n" + strings.Replace(valid("c"), "{image:", "{isolation: vm, image:", 1),
			want: []string{"a@m.yaml:1"},
			errs: []want{{"metadata.name", 8, `"B" must be a DNS label`}, {"spec.isolation", 15, "must be one of process, hyperv, default"}}},
		{name: "syntax error in the third document", yaml: valid("a") + "---\n" + valid("b") + "---\napiVersion: reconciler/v1\nkind: [Container\n",
			want: []string{"a@m.yaml:1", "b@m.yaml:6"}, errs: []want{{"", 12, "invalid YAML"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(tt.yaml), "m.yaml")
			if got := origins(cs); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
			checkProblems(t, ps, tt.errs)
		})
	}
}

func TestParseProblemNames(t *testing.T) {
	_, ps := ParseFile(filepath.Join("testdata", "invalid.yaml"), "invalid.yaml")
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	want := []string{"Web_1", "Web_1", "Web_1", "Web_1", "Web_1", "Web_1", "api", "api", "api", ""}
	if !slices.Equal(names, want) {
		t.Errorf("problem names = %q, want %q\n%s", names, want, renderProblems(ps))
	}
	if ps[len(ps)-1].Line != 25 {
		t.Errorf("syntax error at line %d, want 25", ps[len(ps)-1].Line)
	}
}

func TestParseCaseFolding(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		errs []want
	}{
		{name: "env names that look like fields", yaml: manifest("  env: {IMAGE: x, Name: y, SPEC: z, hostname: w}\n")},
		{name: "label key like a field", yaml: strings.Replace(manifest(""), "name: web", "name: web\n  labels: {Kind: x}", 1)},
		{name: "field in upper case", yaml: strings.Replace(manifest(""), "spec:", "SPEC:", 1),
			errs: []want{{"SPEC", 5, `did you mean "spec"?`}}},
		{name: "Kelvin sign folds onto k", yaml: strings.Replace(manifest(""), "kind:", "\u212aind:", 1),
			errs: []want{{"\u212aind", 2, `did you mean "kind"?`}}},
		{name: "escaped key", yaml: manifest("  \"\\u0069solation\": hyperv\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(tt.yaml), "m.yaml")
			checkProblems(t, ps, tt.errs)
			if (len(tt.errs) == 0) != (len(cs) == 1) {
				t.Errorf("got %d containers, want 1 exactly when valid", len(cs))
			}
		})
	}
}

func TestSyntaxIssue(t *testing.T) {
	tests := []struct {
		name     string
		err      string
		src      string
		wantLine int
		wantMsg  string
	}{
		{name: "YAML error with a line", err: "yaml: line 3: mapping values are not allowed in this context",
			wantLine: 3, wantMsg: "invalid YAML: mapping values are not allowed in this context"},
		{name: "parser error counted from 0", err: "yaml: line 1: did not find expected ',' or ']'",
			wantLine: 2, wantMsg: "invalid YAML: did not find expected ',' or ']'"},
		{name: "unknown anchor", err: "yaml: unknown anchor 'nope' referenced", src: "a: 1\nb: *nope\n",
			wantLine: 2, wantMsg: "invalid YAML: alias *nope names no anchor: define &nope before it, in the same document"},
		{name: "YAML error without a line", err: "yaml: found character that cannot start any token",
			wantMsg: "invalid YAML: found character that cannot start any token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := syntaxIssue(errors.New(tt.err), []byte(tt.src))
			if got.line != tt.wantLine || got.msg != tt.wantMsg {
				t.Errorf("syntaxIssue = line %d %q, want line %d %q", got.line, got.msg, tt.wantLine, tt.wantMsg)
			}
		})
	}
}

// hostile builds documents that are small but expensive to expand (more
// in Bombs).
func hostile() map[string]string {
	// Mounts that merge a thousand small mappings each: valid keys, many
	// visits.
	var budget strings.Builder
	budget.WriteString("apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: x}\nparts:\n")
	for i := range 1000 {
		fmt.Fprintf(&budget, "  - &p%d {readOnly: true}\n", i)
	}
	budget.WriteString("item: &item {<<: [")
	for i := range 1000 {
		fmt.Fprintf(&budget, "*p%d, ", i)
	}
	budget.WriteString("]}\nspec:\n  mounts: [" + strings.Repeat("*item, ", 1100) + "]\n")
	return map[string]string{
		"visit budget":  budget.String(),
		"deep nesting":  strings.Repeat("[", 10000),
		"long sequence": strings.Repeat("- ", 5000) + "x",
	}
}

func TestParseHostile(t *testing.T) {
	for name, doc := range hostile() {
		t.Run(name, func(t *testing.T) {
			cs, ps := Parse(strings.NewReader(doc), "h.yaml")
			if len(cs) != 0 || len(ps) == 0 {
				t.Errorf("got %d containers and %d problems, want the document refused", len(cs), len(ps))
			}
			if name == "visit budget" && !slices.ContainsFunc(ps, func(p Problem) bool { return strings.Contains(p.Message, "document is too complex") }) {
				t.Errorf("problems do not say the document is too complex:\n%s", renderProblems(ps))
			}
		})
	}
}

func TestParseManyProblems(t *testing.T) {
	var ports strings.Builder
	ports.WriteString("  ports:\n")
	for i := range 150 {
		fmt.Fprintf(&ports, "    - {hostPort: %d, containerPort: 0}\n", 1000+i)
	}
	_, ps := Parse(strings.NewReader(manifest(ports.String())), "m.yaml")
	if len(ps) != maxIssues+1 {
		t.Fatalf("got %d problems, want %d", len(ps), maxIssues+1)
	}
	if last := ps[maxIssues]; last.Message != "and 50 or more further problems in this document; fix these first" || last.Line != 8+maxIssues {
		t.Errorf("last problem = %q, want the 50 not shown counted at line %d", last.Error(), 8+maxIssues)
	}
}

func TestParseTooLarge(t *testing.T) {
	comment := func(n int) []byte {
		b := bytes.Repeat([]byte("#"), n)
		b[n-1] = '\n'
		return b
	}
	tests := []struct {
		name string
		size int
		want string
	}{
		{name: "at the limit", size: MaxFileSize},
		{name: "over the limit", size: MaxFileSize + 1, want: "over the 1048576-byte (1 MiB) limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Parse(bytes.NewReader(comment(tt.size)), "big.yaml")
			path := filepath.Join(t.TempDir(), "big.yaml")
			if err := os.WriteFile(path, comment(tt.size), 0o644); err != nil {
				t.Fatal(err)
			}
			_, fps := ParseFile(path, "big.yaml")
			if tt.want == "" {
				// A file of comments only: loaded, and it declares nothing.
				checkProblems(t, ps, []want{{"", 0, "declares nothing"}})
				checkProblems(t, fps, []want{{"", 0, "declares nothing"}})
				return
			}
			checkProblems(t, ps, []want{{"", 0, tt.want}})
			checkProblems(t, fps, []want{{"", 0, "file is 1048577 bytes, " + tt.want}})
		})
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		want []string
		errs []want
	}{
		{name: "three documents", path: filepath.Join("testdata", "multi.yaml"),
			want: []string{"web@f.yaml:2", "worker@f.yaml:12", "db@f.yaml:20"}},
		{name: "missing file", path: filepath.Join(dir, "gone.yaml"), errs: []want{{"", 0, "cannot read: " + notExistReason(t)}}},
		{name: "folder", path: dir, errs: []want{{"", 0, "not a regular file: it is a folder"}}},
		{name: "empty file", path: filepath.Join("testdata", "empty.yaml"), errs: []want{{"", 0, "declares nothing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, ps := ParseFile(tt.path, "f.yaml")
			if got := origins(cs); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
			checkProblems(t, ps, tt.errs)
			for _, p := range ps {
				if p.File != "f.yaml" {
					t.Errorf("problem names file %q, want f.yaml", p.File)
				}
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		_, ps := Parse(iotest.ErrReader(errors.New("disk on fire")), "r.yaml")
		checkProblems(t, ps, []want{{"", 0, "cannot read: disk on fire"}})
	})
}

// notExistReason is the operating system's own words for a missing file, as
// a failed Open gives them: "no such file or directory" on Unix, "The
// system cannot find the file specified." on Windows.
func notExistReason(t *testing.T) string {
	t.Helper()
	_, got := os.Open(filepath.Join(t.TempDir(), "missing"))
	if pe, ok := errors.AsType[*fs.PathError](got); ok && errors.Is(got, fs.ErrNotExist) {
		return pe.Err.Error()
	}
	t.Fatalf("Open of a missing file = %v, want a *fs.PathError for fs.ErrNotExist", got)
	return ""
}

func TestIgnored(t *testing.T) {
	tests := []struct {
		base     string
		ignored  bool
		manifest bool
	}{
		{base: "web.yaml", manifest: true},
		{base: "web.yml", manifest: true},
		{base: "WEB.YAML", manifest: true},
		{base: "web.json"},
		{base: "README.md"},
		{base: "sub"},
		{base: ".hidden.yaml", ignored: true},
		{base: ".git", ignored: true},
		{base: "web.yaml~", ignored: true},
		{base: ".web.yaml.swp", ignored: true},
		{base: "web.yaml.SWP", ignored: true},
		{base: "#web.yaml#", ignored: true},
		{base: "web.yaml.tmp", ignored: true},
		{base: "#", manifest: false},
		{base: "web#.yaml", manifest: true},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			if got := Ignored(tt.base); got != tt.ignored {
				t.Errorf("Ignored(%q) = %v, want %v", tt.base, got, tt.ignored)
			}
			if got := IsManifest(tt.base); got != tt.manifest {
				t.Errorf("IsManifest(%q) = %v, want %v", tt.base, got, tt.manifest)
			}
		})
	}
}

// writeTree creates files (path → content) under dir; a content starting
// with "-> " makes a symbolic link to the rest.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			if err = os.Symlink(filepath.FromSlash(target), path); err != nil && runtime.GOOS == "windows" {
				t.Skip("symbolic links need a privilege on Windows:", err)
			}
		} else {
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestManifestFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"a.yaml":                "",
		"b.yml":                 "",
		"C.YAML":                "",
		"notes.txt":             "",
		".hidden.yaml":          "",
		"a.yaml~":               "",
		".a.yaml.swp":           "",
		"#a.yaml#":              "",
		"a.yaml.tmp":            "",
		"sub/c.yaml":            "",
		"sub/deeper/d.yaml":     "",
		"sub/.cache/e.yaml":     "",
		".git/config.yaml":      "",
		"link.yaml":             "-> sub/c.yaml",
		"linkdir":               "-> sub",
		"dangling.yaml":         "-> nowhere.yaml",
		"folder.yaml/f.yaml":    "",
		"sub/deeper/notes.yaml": "-> ../../notes.txt",
	})
	tests := []struct {
		name    string
		root    string
		want    []string
		wantErr string
	}{
		{name: "tree", root: root, want: []string{
			"C.YAML", "a.yaml", "b.yml", "dangling.yaml", "folder.yaml/f.yaml", "link.yaml",
			"sub/c.yaml", "sub/deeper/d.yaml", "sub/deeper/notes.yaml",
		}},
		{name: "file named explicitly", root: filepath.Join(root, "notes.txt"), want: []string{"notes.txt"}},
		{name: "ignored file named explicitly", root: filepath.Join(root, ".hidden.yaml"), want: []string{".hidden.yaml"}},
		{name: "missing folder", root: filepath.Join(root, "nope"), wantErr: "manifest folder " + filepath.Join(root, "nope") + ": no such directory"},
		{name: "missing file", root: filepath.Join(root, "nope.yaml"), wantErr: "manifest file " + filepath.Join(root, "nope.yaml") + ": no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ManifestFiles(tt.root)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("error = %v, want %q wrapping fs.ErrNotExist", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, p := range got {
				r, err := filepath.Rel(root, p)
				if err != nil {
					t.Fatal(err)
				}
				rel = append(rel, filepath.ToSlash(r))
			}
			if !slices.Equal(rel, tt.want) {
				t.Errorf("ManifestFiles = %q, want %q", rel, tt.want)
			}
		})
	}
}

func TestManifestFilesUnreadableFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits do not deny reading a folder on Windows; its ACL does")
	}
	if os.Geteuid() == 0 {
		t.Skip("root reads folders whatever their permissions")
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.yaml": "", "locked/b.yaml": ""})
	locked := filepath.Join(root, "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })

	if _, err := ManifestFiles(root); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("ManifestFiles error = %v, want one wrapping fs.ErrPermission", err)
	}
	set, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, set.Errors, []want{{"", 0, "cannot read folder: permission denied"}})
	if set.Errors[0].File != "locked" {
		t.Errorf("problem names %q, want locked", set.Errors[0].File)
	}
}

// container is a valid manifest document.
func container(name string) string {
	return "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: " + name + "}\nspec: {image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022'}\n"
}

func TestLoad(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, map[string]string{
		"web.yaml":         "# the web server\n" + container("web"),
		"team/db.yaml":     container("db"),
		"team/broken.yaml": strings.Replace(container("bad"), "Container", "Pod", 1),
		".git/x.yaml":      container("hidden"),
	})
	writeTree(t, b, map[string]string{
		"more.yaml": container("api") + "---\n" + container("web"),
	})

	tests := []struct {
		name       string
		paths      []string
		containers []string
		errs       []string // Problem.Error() of each problem
	}{
		{
			name:       "one folder, files named relative to it",
			paths:      []string{a},
			containers: []string{"db@team/db.yaml:1", "web@web.yaml:2"},
			errs:       []string{`team/broken.yaml:2: bad: kind: must be "Container", not "Pod"`},
		},
		{
			name:       "a file named explicitly",
			paths:      []string{filepath.Join(b, "more.yaml")},
			containers: []string{"api@" + filepath.Join(b, "more.yaml") + ":1", "web@" + filepath.Join(b, "more.yaml") + ":6"},
		},
		{
			name:       "a duplicate name across two folders",
			paths:      []string{a, b},
			containers: []string{"db@" + slashed(a, "team/db.yaml") + ":1", "api@" + slashed(b, "more.yaml") + ":1"},
			errs: []string{
				slashed(a, "team/broken.yaml") + `:2: bad: kind: must be "Container", not "Pod"`,
				slashed(a, "web.yaml") + `:2: web: metadata.name: name "web" is declared 2 times, in ` +
					slashed(a, "web.yaml") + ":2, " + slashed(b, "more.yaml") + ":6; container names must be unique across the desired set",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(tt.paths...)
			if err != nil {
				t.Fatal(err)
			}
			if got := origins(set.Containers); !slices.Equal(got, tt.containers) {
				t.Errorf("containers = %q, want %q", got, tt.containers)
			}
			var errs []string
			for _, p := range set.Errors {
				errs = append(errs, p.Error())
			}
			if !slices.Equal(errs, tt.errs) {
				t.Errorf("errors =\n%q\nwant\n%q", errs, tt.errs)
			}
		})
	}

	t.Run("a path that cannot be read", func(t *testing.T) {
		missing := filepath.Join(a, "missing")
		set, err := Load(a, missing)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "manifest folder "+missing+": no such directory") {
			t.Fatalf("Load error = %v, want no such directory", err)
		}
		if len(set.Containers)+len(set.Errors) != 0 {
			t.Errorf("Load returned a partial set %+v with its error", set)
		}
	})
}

func slashed(root, rel string) string { return filepath.ToSlash(filepath.Join(root, rel)) }

// TestParseFilesInPlace: the containers of a folder come out in file
// order whatever the files hold; when every file declares one container,
// each is decoded into its place in the result, never copied.
func TestParseFilesInPlace(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		inPlace bool
	}{
		{name: "one container per file", inPlace: true,
			files: map[string]string{"a.yaml": container("a"), "b.yaml": container("b"), "c.yaml": container("c")},
			want:  []string{"a@a.yaml:1", "b@b.yaml:1", "c@c.yaml:1"}},
		{name: "two in a file, an invalid one, an empty one",
			files: map[string]string{"a.yaml": container("a"), "b.yaml": container("b1") + "---\n" + container("b2"),
				"c.yaml": "kind: [", "d.yaml": "", "e.yaml": container("e")},
			want: []string{"a@a.yaml:1", "b1@b.yaml:1", "b2@b.yaml:6", "e@e.yaml:1"}},
		{name: "the first document invalid, the second valid in its slot", inPlace: true,
			files: map[string]string{"a.yaml": "kind: Pod\n---\n" + container("a2"), "b.yaml": container("b")},
			want:  []string{"a2@a.yaml:3", "b@b.yaml:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			var files []namedFile
			for _, name := range slices.Sorted(maps.Keys(tt.files)) {
				files = append(files, namedFile{path: filepath.Join(dir, name), name: name})
			}
			results, all := parseFiles(files)
			if got := origins(all); !slices.Equal(got, tt.want) {
				t.Errorf("containers = %q, want %q", got, tt.want)
			}
			inPlace := len(all) == len(results)
			for i := range results {
				inPlace = inPlace && len(results[i].containers) == 1 && &results[i].containers[0] == &all[i]
			}
			if inPlace != tt.inPlace {
				t.Errorf("decoded in place: %v, want %v", inPlace, tt.inPlace)
			}
		})
	}
}

func TestCheckUnique(t *testing.T) {
	at := func(name, file string, line int) Container {
		return Container{Metadata: Metadata{Name: name}, Origin: Origin{File: file, Line: line}}
	}
	publishing := func(c Container, ports ...Port) Container {
		c.Spec.Ports = ports
		return c
	}
	tests := []struct {
		name string
		in   []Container
		want []string
		errs []string
	}{
		{name: "empty"},
		{name: "all unique", in: []Container{at("a", "x.yaml", 1), at("b", "x.yaml", 5)}, want: []string{"a@x.yaml:1", "b@x.yaml:5"}},
		{
			name: "a name declared three times",
			in:   []Container{at("a", "x.yaml", 1), at("b", "x.yaml", 5), at("a", "y.yaml", 3), at("c", "z.yaml", 1), at("a", "x.yaml", 9)},
			want: []string{"b@x.yaml:5", "c@z.yaml:1"},
			errs: []string{`x.yaml:1: a: metadata.name: name "a" is declared 3 times, in x.yaml:1, y.yaml:3, x.yaml:9; container names must be unique across the desired set`},
		},
		{
			name: "two duplicated names",
			in:   []Container{at("a", "x.yaml", 1), at("b", "x.yaml", 5), at("b", "y.yaml", 1), at("a", "y.yaml", 5)},
			want: []string{},
			errs: []string{
				`x.yaml:1: a: metadata.name: name "a" is declared 2 times, in x.yaml:1, y.yaml:5; container names must be unique across the desired set`,
				`x.yaml:5: b: metadata.name: name "b" is declared 2 times, in x.yaml:5, y.yaml:1; container names must be unique across the desired set`,
			},
		},
		{
			name: "a host port published twice",
			in: []Container{
				publishing(at("a", "a.yaml", 1), Port{HostPort: 8080, ContainerPort: 80}),
				publishing(at("b", "b.yaml", 1), Port{HostPort: 8080, ContainerPort: 80, Protocol: "udp"}, Port{HostPort: 9090, ContainerPort: 90}),
				publishing(at("c", "c.yaml", 1), Port{HostPort: 9091, ContainerPort: 90}, Port{HostPort: 8080, ContainerPort: 8080, Protocol: "tcp"}),
				publishing(at("d", "d.yaml", 1), Port{HostPort: 9090, ContainerPort: 90, Protocol: "tcp"}),
				publishing(at("e", "e.yaml", 1), Port{HostPort: 9092, ContainerPort: 90}, Port{HostPort: 9092, ContainerPort: 91}), // validate's business
			},
			want: []string{"e@e.yaml:1"},
			errs: []string{
				"a.yaml:1: a: spec.ports[0].hostPort: host port 8080/tcp is published by 2 containers: a (a.yaml:1, spec.ports[0]), c (c.yaml:1, spec.ports[1]); a host port can be published by one container only: change all but one",
				"b.yaml:1: b: spec.ports[1].hostPort: host port 9090/tcp is published by 2 containers: b (b.yaml:1, spec.ports[1]), d (d.yaml:1, spec.ports[0]); a host port can be published by one container only: change all but one",
			},
		},
		{
			name: "a duplicated name is dropped before its ports count",
			in: []Container{
				publishing(at("a", "x.yaml", 1), Port{HostPort: 8080}), publishing(at("a", "y.yaml", 1), Port{HostPort: 8080}),
				publishing(at("b", "z.yaml", 1), Port{HostPort: 8080}),
			},
			want: []string{"b@z.yaml:1"},
			errs: []string{`x.yaml:1: a: metadata.name: name "a" is declared 2 times, in x.yaml:1, y.yaml:1; container names must be unique across the desired set`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := CheckUnique(tt.in)
			if o := origins(got); !slices.Equal(o, tt.want) && len(o)+len(tt.want) > 0 {
				t.Errorf("unique = %q, want %q", o, tt.want)
			}
			var errs []string
			for _, p := range problems {
				errs = append(errs, p.Error())
			}
			if !slices.Equal(errs, tt.errs) {
				t.Errorf("problems = %q, want %q", errs, tt.errs)
			}
		})
	}
}

// BenchmarkParse parses one typical manifest (testdata/web.yaml, every
// field set). The product target is 10,000 files loaded in under a second
// on two cores, reads included.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "web.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cs, ps := Parse(bytes.NewReader(data), "web.yaml")
		if len(cs) != 1 || len(ps) != 0 {
			b.Fatalf("got %d containers, problems %v", len(cs), ps)
		}
	}
}

// BenchmarkLoad10k loads a folder of 10,000 one-container files, the
// product's target size (under a second on two cores).
func BenchmarkLoad10k(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "web.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	const files = 10000
	for i := range files {
		dir := filepath.Join(root, "team"+strconv.Itoa(i%10))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		doc := bytes.Replace(data, []byte("name: web"), []byte("name: c"+strconv.Itoa(i)), 1)
		// Each publishes a host port of its own: two on one port are an
		// error.
		doc = bytes.Replace(doc, []byte("hostPort: 8080"), []byte("hostPort: "+strconv.Itoa(10000+i)), 1)
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)+".yaml"), doc, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		set, err := Load(root)
		if err != nil || len(set.Containers) != files || len(set.Errors) != 0 {
			b.Fatalf("Load: %d containers, errors %v, %v", len(set.Containers), set.Errors[:min(len(set.Errors), 3)], err)
		}
	}
}

func TestManifestFilesFollowsALinkedRoot(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.yaml", "sub/b.yml"} {
		if err := os.WriteFile(filepath.Join(real, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	got, err := ManifestFiles(link)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(link, "a.yaml"), filepath.Join(link, "sub", "b.yml")}
	if !slices.Equal(got, want) {
		t.Errorf("ManifestFiles(link) = %v, want %v: an empty list would remove every container", got, want)
	}
}
