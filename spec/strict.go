package spec

import (
	"fmt"
	"reflect"
)

// DecodeStrict decodes data, a file of one YAML document, into v (a
// pointer to a struct) by the rules manifests are decoded by: fields named
// by their JSON tags, an unknown field is a problem with a did-you-mean, a
// repeated one too, scalars are taken as written (a string field keeps
// "0123" or "no"; yes/no/on/off are not booleans; 0123 is not a number),
// control characters are refused (with the single-quote hint for Windows
// paths), and aliases are budgeted (ExpandBudget). v's fields must be of
// the kinds manifests use: structs, slices, maps of names, strings, ints,
// bools, or pointers to these (a pointer is set when the field is
// written). A file with nothing but comments leaves v as it is; a file of
// more than one document or over MaxFileSize is a problem. Every problem
// carries file, line and field path.
//
// It is the decoder of files other than manifests (the agent's config
// file); it applies no defaults and no validation of its own.
func DecodeStrict(data []byte, file string, v any) []Problem {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("spec.DecodeStrict: %T is not a pointer to a struct", v))
	}
	if len(data) > MaxFileSize {
		return []Problem{{File: file, Message: fmt.Sprintf("file is %d bytes, over the %d-byte (1 MiB) limit", len(data), MaxFileSize)}}
	}
	docs := splitDocuments(data)
	switch {
	case len(docs) == 0:
		return nil
	case len(docs) > 1:
		return []Problem{{File: file, Line: docs[1].fileLine(docs[1].start), Message: fmt.Sprintf(
			"a second YAML document (after ---): this file holds one; merge the %d documents into one", len(docs))}}
	}
	doc := docs[0]
	root, _, err := parseTree(doc.data)
	if err != nil {
		is := syntaxIssue(err, doc.data)
		return []Problem{{File: file, Line: doc.fileLine(max(is.line, doc.start)), Message: is.msg}}
	}
	if root == nil {
		return nil
	}
	budget := ExpandBudget
	d := decoder{src: doc.data, budget: &budget, path: make(fieldPath, 0, 4),
		infos: collectStructs(rv.Elem().Type(), map[reflect.Type]*structInfo{})}
	d.value(root, rv.Elem())
	issues := place(d.issues, root, doc)
	out := make([]Problem, len(issues))
	for i, is := range issues {
		out[i] = Problem{File: file, Line: is.line, Field: is.path.String(), Message: is.msg}
	}
	return out
}
