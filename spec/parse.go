package spec

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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
// are skipped; a file with nothing else declares nothing, which is a
// warning (see declaresNothing). More than MaxFileSize bytes is one
// problem and no container.
//
// Parse does not block beyond reading r, does not retain r, and is safe
// for concurrent use.
func Parse(r io.Reader, file string) ([]Container, []Problem) {
	data, err := readLimited(r, 0)
	if err != nil {
		return nil, []Problem{{File: file, Message: "cannot read: " + describeFSError(err)}}
	}
	return ParseData(data, file)
}

// ParseData is Parse of a file's content already read: a caller that holds
// the bytes (ReadManifest's) saves copying them. It does not retain data.
func ParseData(data []byte, file string) ([]Container, []Problem) {
	return parseInto(nil, data, file)
}

// parseInto is ParseData appending the containers to containers: Load
// hands each file a slot of its own in one array (a slice of capacity 1),
// which a file of one document fills in place.
func parseInto(containers []Container, data []byte, file string) ([]Container, []Problem) {
	if len(data) > MaxFileSize {
		return containers, []Problem{tooLarge(file, 0)}
	}
	var (
		problems []Problem
		budget   = ExpandBudget
	)
	docs := splitDocuments(data)
	for i, d := range docs {
		if len(problems) >= maxFileProblems {
			problems = append(problems, Problem{File: file, Line: d.fileLine(d.start), Message: fmt.Sprintf(
				"and the %d documents from here on are not checked: the file has over %d problems; fix these first", len(docs)-i, maxFileProblems)})
			break
		}
		if containers == nil {
			containers = make([]Container, 0, len(docs)-i)
		}
		// The document is decoded in place: a slot it does not fill
		// is taken back.
		containers = append(containers, Container{})
		ok, ps := parseDocument(d, file, &budget, &containers[len(containers)-1])
		if !ok {
			containers = containers[:len(containers)-1]
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
	return parseFileInto(nil, path, name)
}

// parseFileInto is ParseFile appending the containers to containers (see
// parseInto).
func parseFileInto(containers []Container, path, name string) ([]Container, []Problem) {
	size, data, err := readManifestData(path)
	switch {
	case err != nil:
		return containers, []Problem{ReadProblem(name, err)}
	case size > MaxFileSize || len(data) > MaxFileSize:
		return containers, []Problem{tooLarge(name, max(size, int64(len(data))))}
	}
	return parseInto(containers, data, name)
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

// parseDocument decodes, defaults and validates one document into c, a
// zero Container, in one walk of its yaml.v3 node tree. ok is true when
// the document is valid; else the problems say why, and there are none
// for a null document. budget is the file's expansion budget (see
// ExpandBudget).
func parseDocument(d document, file string, budget *int, c *Container) (ok bool, _ []Problem) {
	root, text, err := parseTree(d.data)
	if err != nil {
		is := syntaxIssue(err, d.data)
		return false, []Problem{{File: file, Line: d.fileLine(max(is.line, d.start)), Message: is.msg}}
	}
	if root == nil {
		return false, nil
	}
	if p, ok := foreignDocument(root, file, d); ok {
		return false, []Problem{p}
	}
	issues := decodeTree(root, d.data, text, budget, c)
	c.Origin = Origin{File: file, Line: d.fileLine(d.start), DependsOn: dependencyLines(root, d, len(c.Spec.DependsOn))}
	if decodedEnough(issues) {
		c.ApplyDefaults()
		// A zero written where it would read as unset says more than
		// the rule it breaks, and than the rules of the fields around it.
		zeros := writtenZeros(root, c)
		checked := append(zeros, notDecoded(validate(c), zeros)...)
		issues = append(issues, notDecoded(checked, issues)...)
	}
	if len(issues) == 0 {
		return true, nil
	}
	if c.Metadata.Name == "" {
		c.Metadata.Name = nameOf(root)
	}
	return false, c.problems(place(issues, root, d))
}

// dependencyLines returns the file line of each of the n entries of
// spec.dependsOn, nil when there are none.
func dependencyLines(root *yaml.Node, d document, n int) []int {
	if n == 0 {
		return nil
	}
	lines := make([]int, n)
	for i := range lines {
		lines[i] = d.fileLine(lineOf(root, inDependsOn.at(i)))
	}
	return lines
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
	return vp == dp || strings.HasPrefix(vp, dp+".") || strings.HasPrefix(vp, dp+"[") ||
		strings.HasPrefix(dp, vp+".") || strings.HasPrefix(dp, vp+"[")
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
