package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// MaxFileSize is the largest manifest file loaded; a larger one is an
// error.
const MaxFileSize = 1 << 20

// Parse reads every YAML document of one manifest file ("---" separated),
// applies defaults and validates each. It returns the valid containers, in
// file order, with Origin set (File: file, Line: the line where the
// document's content starts), and every problem found: all of them, each
// with its line and field path, not only the first. A document with any
// problem is not returned. Empty documents (nothing but comments, or null)
// are skipped. More than MaxFileSize bytes is one problem and no
// container.
//
// Parse does not block beyond reading r, does not retain r, and is safe
// for concurrent use.
func Parse(r io.Reader, file string) ([]Container, []Problem) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, []Problem{{File: file, Message: "cannot read: " + describeFSError(err)}}
	}
	if len(data) > MaxFileSize {
		return nil, []Problem{tooLarge(file, 0)}
	}
	var (
		containers []Container
		problems   []Problem
	)
	for _, d := range splitDocuments(data) {
		c, ps := parseDocument(d, file)
		if c != nil {
			containers = append(containers, *c)
		}
		problems = append(problems, ps...)
	}
	return containers, problems
}

// ParseFile stats, reads and parses the file at path; name is how problems
// and Origin name the file. A file that cannot be read, that is not a
// regular file, or that is over MaxFileSize is one problem.
func ParseFile(path, name string) ([]Container, []Problem) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []Problem{{File: name, Message: "cannot read: " + describeFSError(err)}}
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, []Problem{{File: name, Message: "cannot read: " + describeFSError(err)}}
	case !st.Mode().IsRegular():
		return nil, []Problem{{File: name, Message: "not a regular file"}}
	case st.Size() > MaxFileSize:
		return nil, []Problem{tooLarge(name, st.Size())}
	}
	return Parse(f, name)
}

// tooLarge is the problem of a file over MaxFileSize; size is 0 if unknown.
func tooLarge(file string, size int64) Problem {
	what := "file is"
	if size > 0 {
		what = fmt.Sprintf("file is %d bytes,", size)
	}
	return Problem{File: file, Message: fmt.Sprintf("%s over the %d-byte (1 MiB) limit for a manifest file; split it into several files", what, MaxFileSize)}
}

// describeFSError is err without the path an *fs.PathError repeats.
func describeFSError(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// document is one YAML document of a file.
type document struct {
	data []byte
	// line is the file line of data's first line.
	line int
	// start is the line (in data, 1-based) where the content starts.
	start int
}

// fileLine turns a line of the document into a line of the file.
func (d document) fileLine(line int) int { return d.line + line - 1 }

var utf8BOM = []byte("\xef\xbb\xbf")

// splitDocuments cuts a file at its "---" and "..." marker lines (at the
// start of a line, as YAML defines them) and keeps the documents that have
// content: a line that is not blank, a comment, a directive or a bare
// marker. A "---"
// line starts the next document and stays in it (it may carry content:
// "--- {…}"); a "..." line ends the current one.
func splitDocuments(data []byte) []document {
	data = bytes.TrimPrefix(data, utf8BOM)
	var (
		docs  []document
		cur   = document{line: 1}
		begin int
	)
	closeAt := func(end, nextLine int) {
		if cur.start > 0 {
			cur.data = data[begin:end]
			docs = append(docs, cur)
		}
		cur, begin = document{line: nextLine}, end
	}
	for off, lineNo := 0, 1; off < len(data); lineNo++ {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		line := data[off:next]
		switch {
		case isMarker(line, "---"):
			closeAt(off, lineNo)
			if hasContent(line[3:]) {
				cur.start = 1
			}
		case isMarker(line, "..."):
			closeAt(next, lineNo+1)
		case cur.start == 0 && line[0] != '%' && hasContent(line):
			// A '%' line before the content is a directive (%YAML 1.2),
			// which belongs to the "---" document after it; the parsers
			// need none of them.
			cur.start = lineNo - cur.line + 1
		}
		off = next
	}
	closeAt(len(data), 0)
	return docs
}

// isMarker reports whether line is the document marker m ("---" or "...")
// followed by a blank or the end of the line.
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	return len(line) == len(m) || strings.IndexByte(" \t\r\n", line[len(m)]) >= 0
}

// hasContent reports whether s holds more than blanks and a comment.
func hasContent(s []byte) bool {
	s = bytes.TrimLeft(s, " \t\r\n")
	return len(s) > 0 && s[0] != '#'
}

// maxIssues is the most problems reported for one document; the rest are
// summed up in one more.
const maxIssues = 100

// parseDocument decodes, defaults and validates one document. It returns
// the container when the document is valid, else its problems; neither for
// a null document.
func parseDocument(d document, file string) (*Container, []Problem) {
	var tree docTree
	c, decoded, issues, err := decode(d.data, &tree)
	if err != nil {
		is := decodeIssue(err)
		return nil, []Problem{{File: file, Line: d.fileLine(max(is.line, d.start)), Message: is.msg}}
	}
	if decoded {
		c.ApplyDefaults()
		issues = append(issues, validate(&c)...)
	}
	c.Origin = Origin{File: file, Line: d.fileLine(d.start)}
	if len(issues) == 0 {
		if !decoded {
			return nil, nil
		}
		return &c, nil
	}
	root, err := tree.parse(d.data)
	if err == nil && root == nil {
		return nil, nil // null: only validation complained
	}
	if c.Metadata.Name == "" && root != nil {
		c.Metadata.Name = nameOf(root)
	}
	return nil, c.problems(place(issues, root, d))
}

// decode decodes a document strictly. The fast path goes through
// sigs.k8s.io/yaml alone; the yaml.v3 node tree is parsed only when that
// fails or might be wrong (see decodeStrict): then checkStructure reports
// every structural problem, and a lenient decode lets validation report
// the rest in the same pass. decoded says whether c is worth validating;
// err is a YAML syntax error.
func decode(data []byte, tree *docTree) (c Container, decoded bool, issues []issue, err error) {
	c, suspicious, strictErr := decodeStrict(data)
	if strictErr == nil && !suspicious {
		return c, true, nil, nil
	}
	root, err := tree.parse(data)
	switch {
	case err != nil:
		// yaml.v2's message, from sigs.k8s.io/yaml, has the better line.
		if strictErr != nil && strings.HasPrefix(strictErr.Error(), yamlErrorPrefix) {
			err = strictErr
		}
		return Container{}, false, nil, err
	case root == nil:
		return Container{}, false, nil, nil
	}
	issues = checkStructure(root)
	switch {
	case strictErr == nil:
		return c, true, issues, nil
	case len(issues) == 0:
		// A failure checkStructure does not model: report it as is.
		return Container{}, false, []issue{decodeIssue(strictErr)}, nil
	}
	var lenient Container
	decoded = sigsyaml.Unmarshal(data, &lenient) == nil
	return lenient, decoded, issues, nil
}

// place gives every issue its file line (looking up in the tree those
// without one), orders them by line, and keeps maxIssues of them and a
// count of the rest (a lower bound: checkStructure stops early).
func place(issues []issue, root *yaml.Node, d document) []issue {
	var more []issue
	if len(issues) > maxIssues {
		first := issues[maxIssues]
		more = []issue{{path: first.path, line: first.line, msg: fmt.Sprintf("and %d or more further problems in this document; fix these first", len(issues)-maxIssues)}}
		issues = issues[:maxIssues]
	}
	for _, is := range [][]issue{issues, more} {
		for i := range is {
			if is[i].line == 0 && root != nil {
				is[i].line = lineOf(root, is[i].path)
			}
			if is[i].line > 0 {
				is[i].line = d.fileLine(is[i].line)
			}
		}
	}
	slices.SortStableFunc(issues, func(a, b issue) int { return a.line - b.line })
	return append(issues, more...)
}

// decodeStrict decodes a document through sigs.k8s.io/yaml, strictly:
// duplicate keys and unknown fields are errors.
//
// encoding/json, underneath, matches field names case-insensitively, so
// "Image:" would silently set spec.image. decodeStrict therefore also
// looks at the keys of the intermediate JSON and reports as suspicious a
// document with a key that equals a manifest field name but for case;
// checkStructure then decides.
func decodeStrict(data []byte) (c Container, suspicious bool, err error) {
	var g foldGuard
	err = sigsyaml.UnmarshalStrict(data, &c, g.inspect)
	return c, g.suspicious, err
}

// foldGuard inspects the JSON sigs.k8s.io/yaml decodes.
type foldGuard struct {
	suspicious bool
}

// inspect is a sigs.k8s.io/yaml JSONOpt: it reads the JSON value the
// decoder holds, checks its keys, and hands back a strict decoder of the
// same value.
func (g *foldGuard) inspect(d *json.Decoder) *json.Decoder {
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return d // it repeats its error
	}
	g.suspicious = hasFoldedKey(raw)
	nd := json.NewDecoder(bytes.NewReader(raw))
	nd.DisallowUnknownFields()
	return nd
}

// knownFields are the JSON names of every manifest field; fieldNames
// lists them for folding.
var (
	knownFields = map[string]bool{}
	fieldNames  [][]byte
)

func init() {
	for _, info := range structInfos {
		for _, n := range info.names {
			if !knownFields[n] {
				knownFields[n] = true
				fieldNames = append(fieldNames, []byte(n))
			}
		}
	}
}

// hasFoldedKey reports whether compact JSON (as json.Marshal writes it)
// has an object key that encoding/json would fold onto a manifest field
// name it is not equal to. (json.Marshal escapes only characters that no
// field name has, so an escaped key never folds onto one.)
func hasFoldedKey(js []byte) bool {
	for i := 0; i < len(js); i++ {
		if js[i] != '"' {
			continue
		}
		j := i + 1
		for ; j < len(js) && js[j] != '"'; j++ {
			if js[j] == '\\' {
				j++
			}
		}
		if j+1 < len(js) && js[j+1] == ':' {
			if key := js[i+1 : j]; !knownFields[string(key)] && foldsOntoField(key) {
				return true
			}
		}
		i = j
	}
	return false
}

// foldsOntoField reports whether key equals a field name under Unicode
// case folding, as encoding/json matches them.
func foldsOntoField(key []byte) bool {
	for _, name := range fieldNames {
		if bytes.EqualFold(key, name) {
			return true
		}
	}
	return false
}

// syntaxLine finds the line in a YAML error message.
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlErrorPrefix starts sigs.k8s.io/yaml's messages for YAML errors.
const yamlErrorPrefix = "error converting YAML to JSON: yaml: "

// decodeIssue turns a YAML or decoding error into an issue, with its line
// when the message gives one.
func decodeIssue(err error) issue {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "error unmarshaling JSON: while decoding JSON: "); ok {
		return issue{msg: "cannot decode: " + rest}
	}
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	var line int
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return issue{line: line, msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// docTree is a document's yaml.v3 node tree, parsed on first use.
type docTree struct {
	parsed bool
	root   *yaml.Node
	err    error
}

// parse returns the document's root value node, nil for an empty or null
// document, or the YAML syntax error.
func (t *docTree) parse(data []byte) (*yaml.Node, error) {
	if !t.parsed {
		t.parsed = true
		var doc yaml.Node
		if t.err = yaml.Unmarshal(data, &doc); t.err == nil && len(doc.Content) > 0 {
			if root := resolveAlias(doc.Content[0]); !isNull(root) {
				t.root = root
			}
		}
	}
	return t.root, t.err
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// mergedMappings returns the mappings a merge key's value names: one
// mapping or a list of them.
func mergedMappings(v *yaml.Node) []*yaml.Node {
	v = resolveAlias(v)
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		out := make([]*yaml.Node, 0, len(v.Content))
		for _, m := range v.Content {
			if m = resolveAlias(m); m.Kind == yaml.MappingNode {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// lineOf returns the line (in the document) of the deepest node of path p
// present in the tree: the key of a field, the item of a list, or the
// document start when nothing of p is there.
func lineOf(root *yaml.Node, p fieldPath) int {
	n, line := root, root.Line
	for _, e := range p {
		switch {
		case e.kind == elemIndex && n.Kind == yaml.SequenceNode && e.index < len(n.Content):
			n = resolveAlias(n.Content[e.index])
			line = n.Line
		case e.kind != elemIndex && n.Kind == yaml.MappingNode:
			k, v := lookupKey(n, e.name, nil)
			if k == nil {
				return line
			}
			n, line = resolveAlias(v), k.Line
		default:
			return line
		}
	}
	return line
}

// lookupKey finds a key of mapping n, then in the mappings it merges;
// seen (allocated on first merge) visits each merged mapping once.
func lookupKey(n *yaml.Node, name string, seen map[*yaml.Node]bool) (key, value *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == name && !isMergeKey(k) {
			return k, n.Content[i+1]
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMergeKey(n.Content[i]) {
			continue
		}
		for _, m := range mergedMappings(n.Content[i+1]) {
			if seen == nil {
				seen = map[*yaml.Node]bool{n: true}
			}
			if seen[m] {
				continue
			}
			seen[m] = true
			if k, v := lookupKey(m, name, seen); k != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// nameOf returns metadata.name from a tree that did not decode.
func nameOf(root *yaml.Node) string {
	if root.Kind != yaml.MappingNode {
		return ""
	}
	_, meta := lookupKey(root, "metadata", nil)
	if meta = resolveAlias(meta); meta == nil || meta.Kind != yaml.MappingNode {
		return ""
	}
	_, name := lookupKey(meta, "name", nil)
	if name = resolveAlias(name); name == nil || name.Kind != yaml.ScalarNode {
		return ""
	}
	return name.Value
}

// Ignored reports whether a base name (file or folder) is skipped when
// loading a folder: dotfiles and dot-folders, and editor leftovers (*~,
// *.swp, #*#, *.tmp).
func Ignored(base string) bool {
	lower := strings.ToLower(base)
	return strings.HasPrefix(base, ".") ||
		strings.HasSuffix(base, "~") ||
		strings.HasSuffix(lower, ".swp") ||
		strings.HasSuffix(lower, ".tmp") ||
		len(base) >= 2 && base[0] == '#' && base[len(base)-1] == '#'
}

// IsManifest reports whether a base name is a manifest file: *.yaml or
// *.yml (any case) and not Ignored.
func IsManifest(base string) bool {
	ext := filepath.Ext(base)
	return (strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml")) && !Ignored(base)
}

// ManifestFiles returns the manifest files under root, recursively, sorted,
// skipping ignored files and folders. Symbolic links to files are
// included; links to folders are not followed. A root that is a file is
// returned as is, whatever its name: it was named explicitly.
//
// A missing or unreadable root, or a folder below it that cannot be
// listed, is an error that unwraps to the fs error (errors.Is(err,
// fs.ErrNotExist), fs.ErrPermission): an incomplete list must not pass for
// the desired set.
func ManifestFiles(root string) ([]string, error) {
	w, err := walkManifests(root)
	if err != nil {
		return nil, err
	}
	if len(w.unreadable) > 0 {
		errs := make([]error, len(w.unreadable))
		for i, e := range w.unreadable {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return w.files, nil
}

// manifestWalk is what walkManifests found.
type manifestWalk struct {
	files []string
	// dir is true when the root is a folder.
	dir bool
	// unreadable are the folders below the root that could not be listed.
	unreadable []*pathError
}

// walkManifests lists the manifest files under root; the error is for the
// root alone.
func walkManifests(root string) (manifestWalk, error) {
	st, err := os.Stat(root)
	if err != nil {
		return manifestWalk{}, &pathError{path: root, err: err}
	}
	if !st.IsDir() {
		return manifestWalk{files: []string{root}}, nil
	}
	w := manifestWalk{dir: true}
	// A root reached through a symbolic link is walked where it points
	// (WalkDir would not enter it), and its files are named under root.
	walkRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return manifestWalk{}, &pathError{path: root, err: err}
	}
	err = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
		isRoot := path == walkRoot
		if rel, relErr := filepath.Rel(walkRoot, path); relErr == nil {
			path = filepath.Join(root, rel)
		}
		switch {
		case err != nil && isRoot:
			return &pathError{path: root, err: err}
		case err != nil:
			w.unreadable = append(w.unreadable, &pathError{path: path, err: err})
			return nil
		case isRoot:
			return nil
		case Ignored(d.Name()) && d.IsDir():
			return filepath.SkipDir
		case d.IsDir() || !IsManifest(d.Name()):
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			// A link to a folder is not followed; a dangling link stays
			// in the list so that reading it reports the problem.
			if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
				return nil
			}
		case !d.Type().IsRegular():
			return nil
		}
		w.files = append(w.files, path)
		return nil
	})
	if err != nil {
		return manifestWalk{}, err
	}
	slices.Sort(w.files)
	return w, nil
}

// pathError is a manifest path that cannot be read; it unwraps to the fs
// error.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string {
	what, missing := "folder", "no such directory"
	if IsManifest(filepath.Base(e.path)) {
		what, missing = "file", "no such file"
	}
	reason := describeFSError(e.err)
	if errors.Is(e.err, fs.ErrNotExist) {
		reason = missing
	}
	return fmt.Sprintf("manifest %s %s: %s", what, e.path, reason)
}

func (e *pathError) Unwrap() error { return e.err }

// Set is a loaded desired set: the valid containers with unique names, and
// every problem found.
type Set struct {
	Containers []Container
	Errors     []Problem
}

// Load loads each path (a manifest file or a folder of them) and checks
// that names are unique across all of them. Problems and Origins name a
// file found in a folder relative to that folder, with '/' separators
// (with several paths, prefixed by the folder as given, so that names stay
// unambiguous); a file named explicitly is named as given. A folder below
// a root that cannot be listed is a problem.
//
// The error is only for a path that cannot be read at all; it unwraps to
// the fs error. Files are parsed in parallel, one worker per CPU; the
// result does not depend on it. Load only reads.
func Load(paths ...string) (Set, error) {
	var (
		files []namedFile
		set   Set
	)
	for _, root := range paths {
		w, err := walkManifests(root)
		if err != nil {
			return Set{}, err
		}
		name := func(path string) string {
			if !w.dir {
				return path
			}
			rel, err := filepath.Rel(root, path)
			if err != nil || len(paths) > 1 {
				return filepath.ToSlash(path)
			}
			return filepath.ToSlash(rel)
		}
		for _, f := range w.files {
			files = append(files, namedFile{path: f, name: name(f)})
		}
		for _, e := range w.unreadable {
			set.Errors = append(set.Errors, Problem{File: name(e.path), Message: "cannot read folder: " + describeFSError(e.err)})
		}
	}
	var all []Container
	for _, r := range parseFiles(files) {
		all = append(all, r.containers...)
		set.Errors = append(set.Errors, r.problems...)
	}
	var dups []Problem
	set.Containers, dups = CheckUnique(all)
	set.Errors = append(set.Errors, dups...)
	return set, nil
}

// namedFile is a file to parse and how problems name it.
type namedFile struct {
	path, name string
}

// parsed is what ParseFile returned for one file.
type parsed struct {
	containers []Container
	problems   []Problem
}

// parseFiles parses files with one worker per CPU; the results are in the
// order of files.
func parseFiles(files []namedFile) []parsed {
	results := make([]parsed, len(files))
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				results[i].containers, results[i].problems = ParseFile(files[i].path, files[i].name)
			}
		})
	}
	wg.Wait()
	return results
}

// CheckUnique returns, in order, the containers whose names are unique,
// and one problem per duplicated name that names every place (file:line)
// declaring it, placed at the first. Every container of a duplicated name
// is dropped: which one was meant is unknown.
func CheckUnique(cs []Container) ([]Container, []Problem) {
	byName := make(map[string][]int, len(cs))
	for i, c := range cs {
		byName[c.Metadata.Name] = append(byName[c.Metadata.Name], i)
	}
	unique := make([]Container, 0, len(cs))
	var problems []Problem
	for i, c := range cs {
		same := byName[c.Metadata.Name]
		if len(same) == 1 {
			unique = append(unique, c)
			continue
		}
		if same[0] != i {
			continue
		}
		where := make([]string, len(same))
		for j, k := range same {
			where[j] = cs[k].Origin.String()
		}
		problems = append(problems, Problem{
			File: c.Origin.File, Line: c.Origin.Line, Name: c.Metadata.Name, Field: "metadata.name",
			Message: fmt.Sprintf("name %q is declared %d times, in %s; container names must be unique across the desired set", c.Metadata.Name, len(same), strings.Join(where, ", ")),
		})
	}
	return unique, problems
}
