package spec

import (
	"bytes"
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
)

// MaxFileSize is the largest manifest file loaded; a larger one is an
// error.
const MaxFileSize = 1 << 20

// maxFileProblems is about the most problems reported for one file: the
// documents after it are not checked (their count is reported).
const maxFileProblems = 1000

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
		budget     = ExpandBudget
	)
	docs := splitDocuments(data)
	for i, d := range docs {
		if len(problems) >= maxFileProblems {
			problems = append(problems, Problem{File: file, Line: d.fileLine(d.start), Message: fmt.Sprintf(
				"and the %d documents from here on are not checked: the file has over %d problems; fix these first", len(docs)-i, maxFileProblems)})
			break
		}
		c, ps := parseDocument(d, file, &budget)
		if c != nil {
			containers = append(containers, *c)
		}
		problems = append(problems, ps...)
	}
	if len(containers) == 0 && len(problems) == 0 {
		problems = []Problem{declaresNothing(file)}
	}
	return containers, problems
}

// declaresNothing is the warning of a file without a single document: empty,
// blank, comments or null. It is what a full disk or a crashed editor
// leaves behind, so it is never read as "remove everything this file
// declared": removals are held while it is so.
func declaresNothing(file string) Problem {
	return Problem{File: file, Warning: true, Message: "declares nothing (the file is empty, or holds only blank lines, comments or null); " +
		"every removal is held while it does: restore its content, or delete the file to remove what it declared"}
}

// ParseFile reads (see ReadManifest) and parses the file at path; name is
// how problems and Origin name the file. A file that cannot be read, that
// is not a regular file (it is never opened), or that is over MaxFileSize
// is one problem.
func ParseFile(path, name string) ([]Container, []Problem) {
	st, data, err := ReadManifest(path)
	switch {
	case err != nil:
		return nil, []Problem{ReadProblem(name, err)}
	case st.Size() > MaxFileSize || len(data) > MaxFileSize:
		return nil, []Problem{tooLarge(name, max(st.Size(), int64(len(data))))}
	}
	return Parse(bytes.NewReader(data), name)
}

// ReadProblem is the problem of a manifest file that ReadManifest could not
// read.
func ReadProblem(name string, err error) Problem {
	if errors.Is(err, ErrNotRegular) {
		return Problem{File: name, Message: err.Error()}
	}
	return Problem{File: name, Message: "cannot read: " + describeFSError(err)}
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

// parseDocument decodes, defaults and validates one document in one walk
// of its yaml.v3 node tree. It returns the container when the document is
// valid, else its problems; neither for a null document. budget is the
// file's expansion budget (see ExpandBudget).
func parseDocument(d document, file string, budget *int) (*Container, []Problem) {
	root, err := parseTree(d.data)
	if err != nil {
		is := syntaxIssue(err, d.data)
		return nil, []Problem{{File: file, Line: d.fileLine(max(is.line, d.start)), Message: is.msg}}
	}
	if root == nil {
		return nil, nil
	}
	c, issues := decodeTree(root, d.data, budget)
	c.Origin = Origin{File: file, Line: d.fileLine(d.start)}
	if decodedEnough(issues) {
		c.ApplyDefaults()
		issues = append(issues, notDecoded(validate(&c), issues)...)
	}
	if len(issues) == 0 {
		return &c, nil
	}
	if c.Metadata.Name == "" {
		c.Metadata.Name = nameOf(root)
	}
	return nil, c.problems(place(issues, root, d))
}

// decodedEnough reports whether a document decoded well enough to be
// validated: it is a mapping and its budget was not spent.
func decodedEnough(issues []issue) bool {
	for _, is := range issues {
		if len(is.path) == 0 {
			return false
		}
	}
	return true
}

// notDecoded drops the validation issues of fields that did not decode:
// their decode issue says what is wrong ("must be a list" rather than "is
// required").
func notDecoded(valid, decoded []issue) []issue {
	if len(decoded) == 0 {
		return valid
	}
	out := valid[:0]
	for _, v := range valid {
		vp := v.path.String()
		if !slices.ContainsFunc(decoded, func(d issue) bool { return within(vp, d.path) || within(vp, d.covers) }) {
			out = append(out, v)
		}
	}
	return out
}

// within reports whether the path vp is p, below p, or above it.
func within(vp string, p fieldPath) bool {
	if p == nil {
		return false
	}
	dp := p.String()
	return vp == dp || strings.HasPrefix(vp, dp+".") || strings.HasPrefix(vp, dp+"[") || strings.HasPrefix(dp, vp)
}

// place gives every issue its file line (looking up in the tree those
// without one), orders them by line, and keeps maxIssues of them and a
// count of the rest (a lower bound: the decoder stops early).
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

// syntaxLine finds the line in a yaml.v3 error message.
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): `)

// unknownAnchor is yaml.v3's message for an alias to an anchor that is not
// defined; it gives no line.
var unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// syntaxIssue turns a yaml.v3 syntax error about the document src into an
// issue, with its line. yaml.v3 gives the line where the construct that
// failed starts, counted from 0 for the parser's errors ("did not find
// expected …") and a tab's; the line after is where the problem is.
func syntaxIssue(err error, src []byte) issue {
	msg := err.Error()
	var line int
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found a tab character") {
			line++
		}
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			line = 1 + bytes.Count(src[:i], []byte("\n"))
		}
		msg = fmt.Sprintf("alias *%s names no anchor: define &%s before it, in the same document", m[1], m[1])
	}
	if strings.HasPrefix(msg, "found unknown escape character") {
		msg += `; inside double quotes a backslash starts an escape: write Windows paths in single quotes ('C:\data')`
	}
	return issue{line: line, msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// parseTree parses one document into its yaml.v3 node tree and returns its
// root value node: nil for an empty or null document. Aliases stay
// references: nothing is expanded here.
func parseTree(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, err
	}
	if root := resolveAlias(doc.Content[0]); !isNull(root) {
		return root, nil
	}
	return nil, nil
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
// skipping ignored files and folders. Every entry named like a manifest
// that is not a folder is listed, whatever it is (a link, a named pipe):
// reading it says what is wrong (see ReadManifest). Links to folders are
// not followed. A root that is a file is
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
		}
		// Anything else named like a manifest is listed, whatever it is:
		// reading a link to a folder, a named pipe or a dangling link
		// reports the problem, which holds removals (a manifest that
		// cannot be read must never read as one that was deleted). Links
		// to folders are not followed.
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
// every problem found: errors, and warnings such as a file that declares
// nothing. Any problem of a desired set, error or warning, means it may be
// incomplete: it holds removals.
type Set struct {
	Containers []Container
	Errors     []Problem
	Warnings   []Problem
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
		errs, warns := SplitProblems(r.problems)
		set.Errors = append(set.Errors, errs...)
		set.Warnings = append(set.Warnings, warns...)
	}
	var dups []Problem
	set.Containers, dups = CheckUnique(all)
	set.Errors = append(set.Errors, dups...)
	return set, nil
}

// SplitProblems splits problems into errors and warnings, each in order.
func SplitProblems(ps []Problem) (errs, warns []Problem) {
	for _, p := range ps {
		if p.Warning {
			warns = append(warns, p)
		} else {
			errs = append(errs, p)
		}
	}
	return errs, warns
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
