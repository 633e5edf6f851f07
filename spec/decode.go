package spec

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ExpandBudget bounds what the documents of one file may expand to through
// aliases and merge keys: the bytes of every scalar decoded plus nodeCost
// per node, counted each time an alias is followed. A file without aliases
// stays far below it (1 MiB of text is at most ~1 MiB of scalars and ~512k
// nodes); a file over it is refused with a problem at the line where the
// budget ran out, so a small file can never make the agent allocate or
// work without bound.
const ExpandBudget = 16 << 20

// maxIssues is the most problems reported for one document; the rest are
// summed up in one more.
const maxIssues = 100

// nodeCost is what one node costs of ExpandBudget besides its scalar bytes:
// roughly what holding one value costs once decoded.
const nodeCost = 8

// decoder turns one document's yaml.v3 node tree into a Container in a
// single walk: it takes every scalar exactly as written (a string field
// keeps "0123", "no" or "1.10"; numbers and booleans must be written
// unambiguously), refuses control characters in strings, reports unknown
// and repeated fields, and charges every node it visits to the file's
// expansion budget. Every issue carries its line in the document.
type decoder struct {
	// src is the document's text, to quote the line a problem is on.
	src    []byte
	budget *int
	issues []issue
	// path is where the walk is; an issue takes a copy.
	path fieldPath
	// spent is set once the budget ran out: the walk stops.
	spent bool
	// infos are the struct types the walk may meet (structInfos for a
	// manifest).
	infos map[reflect.Type]*structInfo
	// arena, when set, holds the strings the walk stores (see keep).
	arena *strings.Builder
}

// decodeTree decodes root into c, a zero Container. c holds whatever
// decoded cleanly; the issues say what did not. text is parseTree's: when
// the values share the document's text, those c keeps are copied out of
// it into one string of their own, so that a container held for as long
// as the agent runs does not hold its file's comments and keys too.
func decodeTree(root *yaml.Node, src []byte, text int, budget *int, c *Container) []issue {
	d := decoder{src: src, budget: budget, path: make(fieldPath, 0, 8), infos: structInfos}
	if text > 0 {
		d.arena = new(strings.Builder)
		d.arena.Grow(text)
	}
	d.value(root, reflect.ValueOf(c).Elem())
	return d.issues
}

// keep returns the string to store for s: s itself, or with an arena a
// copy in it. The arena is sized for every scalar of the document, so it
// never grows (a string past it is copied alone), and the strings cut
// from it stay as written: a strings.Builder never changes what it wrote.
func (d *decoder) keep(s string) string {
	if d.arena == nil || s == "" {
		return s
	}
	if d.arena.Len()+len(s) > d.arena.Cap() {
		return strings.Clone(s)
	}
	start := d.arena.Len()
	d.arena.WriteString(s)
	return d.arena.String()[start:]
}

// add records an issue at the current path.
func (d *decoder) add(line int, format string, args ...any) {
	d.issues = append(d.issues, issue{path: slices.Clone(d.path), line: line, msg: fmt.Sprintf(format, args...)})
}

// addAt records an issue at the current path's child e.
func (d *decoder) addAt(e pathElem, line int, format string, args ...any) {
	d.path = append(d.path, e)
	d.add(line, format, args...)
	d.path = d.path[:len(d.path)-1]
}

// charge spends n's cost from the budget and reports whether to go on: not
// once the budget is spent, nor once more issues were found than are
// reported. at is the node as written: an alias, where n is what it names.
func (d *decoder) charge(n, at *yaml.Node) bool {
	if d.spent {
		return false
	}
	*d.budget -= nodeCost + len(n.Value)
	if *d.budget < 0 {
		d.spent = true
		d.issues = append(d.issues, issue{line: at.Line, msg: fmt.Sprintf(
			"document is too complex: its aliases and merge keys expand to more than %d MiB; write the values out instead of repeating them through aliases", ExpandBudget>>20)})
		return false
	}
	return len(d.issues) <= maxIssues
}

// value decodes the node at into v, whose type is one of the manifest
// types: a struct, a slice, a map of strings, a string, an int, a bool or
// a pointer to one of these.
// A null leaves v as it is (the field is unset).
func (d *decoder) value(at *yaml.Node, v reflect.Value) {
	n := resolveAlias(at)
	if n == nil || !d.charge(n, at) || isNull(n) {
		return
	}
	if n.Style&yaml.TaggedStyle != 0 && n.ShortTag() != "!!str" && n.ShortTag() != "!!map" && n.ShortTag() != "!!seq" {
		d.add(n.Line, "explicit YAML tag %s is not supported here; remove it and write the value as it is meant", n.Tag)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		// An optional value whose absence means something (a default
		// that is not the zero value): written, it is set.
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(at, v.Elem())
	case reflect.Struct:
		d.structValue(n, v)
	case reflect.Map:
		d.mapValue(n, v)
	case reflect.Slice:
		d.sliceValue(n, v)
	case reflect.String:
		if s, ok := d.str(n, "must be a string"); ok {
			v.SetString(d.keep(s))
		}
	case reflect.Int:
		if i, ok := d.integer(n); ok {
			v.SetInt(i)
		}
	case reflect.Bool:
		if b, ok := d.boolean(n); ok {
			v.SetBool(b)
		}
	default:
		// TestDecodeCoversTypes keeps the manifest types within the kinds
		// above.
		d.add(n.Line, "cannot be decoded (field of kind %s)", v.Kind())
	}
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value) {
	info := d.infos[v.Type()]
	if n.Kind != yaml.MappingNode {
		what := "must be a mapping"
		if len(d.path) == 0 {
			what = "a manifest document must be a mapping"
		}
		d.add(n.Line, "%s with the fields %s", what, strings.Join(info.names, ", "))
		return
	}
	d.entries(n, elemField, func(k, val *yaml.Node) {
		f, ok := info.fields[k.Value]
		if !ok {
			d.add(k.Line, "%s", unknownField(v.Type(), info, k.Value))
			if s := closest(k.Value, info.names); s != "" {
				// "Image:" meant image: its validation ("is required")
				// would only repeat this.
				d.issues[len(d.issues)-1].covers = append(slices.Clone(d.path[:len(d.path)-1]), pathElem{name: s})
			}
			return
		}
		d.value(val, v.FieldByIndex(f.index))
	})
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "must be a mapping of names to strings")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(n.Content)/2))
	}
	elem := reflect.New(v.Type().Elem()).Elem()
	key := reflect.New(v.Type().Key()).Elem()
	d.entries(n, elemKey, func(k, val *yaml.Node) {
		if r := resolveAlias(val); r != nil && isNull(r) {
			msg := fmt.Sprintf("has no value (null); write %s: '' for an empty value", k.Value)
			if r.Value != "" {
				msg += fmt.Sprintf(", or '%s' for the word", r.Value)
			}
			d.add(r.Line, "%s", msg)
			return
		}
		before := len(d.issues)
		elem.SetZero()
		d.value(val, elem)
		if len(d.issues) == before && !d.spent {
			key.SetString(d.keep(k.Value))
			v.SetMapIndex(key, elem)
		}
	})
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, "must be a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.path = append(d.path, pathElem{index: i, kind: elemIndex})
		if it := resolveAlias(item); it != nil && isNull(it) {
			d.add(it.Line, "is null; write the value, or remove the entry")
		} else {
			d.value(item, s.Index(i))
		}
		d.path = d.path[:len(d.path)-1]
		if d.spent {
			return
		}
	}
	v.Set(s)
}

// entries checks the keys of mapping n (plain names, each once) and calls
// fn for each entry, with the path at that entry (a field or a map key, by
// kind): first the mapping's own entries, then those its merge keys (<<)
// bring in that it does not set itself, as YAML defines merging.
func (d *decoder) entries(n *yaml.Node, kind elemKind, fn func(k, val *yaml.Node)) {
	var (
		seen   keySet
		merges []*yaml.Node
	)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if !d.charge(k, n.Content[i]) {
			return
		}
		if isMergeKey(k) {
			merges = append(merges, val)
			continue
		}
		d.path = append(d.path, pathElem{name: k.Value, kind: kind})
		if d.key(k) {
			if first, dup := seen.get(k.Value); dup {
				d.add(k.Line, "is set twice (first on line %d)", first)
			} else {
				seen.put(k.Value, k.Line)
				fn(k, val)
			}
		}
		d.path = d.path[:len(d.path)-1]
	}
	if len(merges) > 0 {
		d.merge(merges, kind, &seen, map[*yaml.Node]bool{n: true}, fn)
	}
}

// merge calls fn for the entries of the mappings that merge keys name,
// earlier mappings first, skipping names already set; each mapping is
// merged once.
func (d *decoder) merge(values []*yaml.Node, kind elemKind, seen *keySet, merged map[*yaml.Node]bool, fn func(k, val *yaml.Node)) {
	for _, val := range values {
		for _, m := range mergedMappings(val) {
			if merged[m] || d.spent {
				continue
			}
			merged[m] = true
			var nested []*yaml.Node
			for i := 0; i+1 < len(m.Content); i += 2 {
				k := resolveAlias(m.Content[i])
				if !d.charge(k, m.Content[i]) {
					return
				}
				switch {
				case isMergeKey(k):
					nested = append(nested, m.Content[i+1])
				case k.Kind != yaml.ScalarNode:
				default:
					if _, done := seen.get(k.Value); !done {
						seen.put(k.Value, k.Line)
						d.path = append(d.path, pathElem{name: k.Value, kind: kind})
						fn(k, m.Content[i+1])
						d.path = d.path[:len(d.path)-1]
					}
				}
			}
			d.merge(nested, kind, seen, merged, fn)
		}
	}
}

// smallKeys is how many keys a keySet holds in a list: more than any
// manifest mapping has fields, and than most have labels or variables.
const smallKeys = 16

// keySet is the keys of one mapping seen so far, each with its line: a
// list searched in order while it is small (no allocation), a map beyond.
type keySet struct {
	small [smallKeys]struct {
		name string
		line int
	}
	n   int
	big map[string]int
}

// get returns the line of key name, if it was seen.
func (s *keySet) get(name string) (int, bool) {
	if s.big != nil {
		line, ok := s.big[name]
		return line, ok
	}
	for _, k := range s.small[:s.n] {
		if k.name == name {
			return k.line, true
		}
	}
	return 0, false
}

// put records key name, not yet seen, at line.
func (s *keySet) put(name string, line int) {
	switch {
	case s.big != nil:
		s.big[name] = line
	case s.n < smallKeys:
		s.small[s.n].name, s.small[s.n].line = name, line
		s.n++
	default:
		s.big = make(map[string]int, 2*smallKeys)
		for _, k := range s.small {
			s.big[k.name] = k.line
		}
		s.big[name] = line
	}
}

// key reports whether a mapping key (the path's last element) is a name:
// a scalar without control characters.
func (d *decoder) key(k *yaml.Node) bool {
	switch {
	case k.Kind != yaml.ScalarNode:
		d.path[len(d.path)-1].name = ""
		d.add(k.Line, "keys must be plain names, not a list or a mapping")
		return false
	case isNull(k) && k.Value == "":
		d.add(k.Line, "a key must be a name, not empty")
		return false
	}
	return d.controlFree(k)
}

// str returns a scalar's text exactly as written. A scalar that YAML 1.1
// tools would read as a number or a boolean (0123, 1.10, yes) keeps its
// text: that is what the user typed.
func (d *decoder) str(n *yaml.Node, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, "%s, not a %s", want, kindName(n))
		return "", false
	}
	if !d.controlFree(n) {
		return "", false
	}
	return n.Value, true
}

// integer accepts a plain decimal integer written without a sign or
// leading zeros that tools read differently (YAML 1.1 reads 0123 as octal
// 83, 0x1F90 as 8080).
func (d *decoder) integer(n *yaml.Node) (int64, bool) {
	s := n.Value
	switch {
	case n.Kind != yaml.ScalarNode:
		d.add(n.Line, "must be a whole number, not a %s", kindName(n))
		return 0, false
	case n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0:
		d.add(n.Line, "must be a number, not the string %s; remove the quotes", quoteScalar(s))
		return 0, false
	}
	digits := strings.TrimPrefix(s, "-")
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		if len(digits) > 1 && digits[0] == '0' {
			d.add(n.Line, "%q has a leading zero, which YAML 1.1 tools read as an octal number; write %s", s, strings.TrimLeft(digits, "0"))
			return 0, false
		}
		i, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			d.add(n.Line, "%q is out of range", s)
			return 0, false
		}
		return i, true
	}
	if i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); err == nil {
		d.add(n.Line, "%q is not a decimal number, and YAML tools disagree on what it means; write %d", s, i)
		return 0, false
	}
	d.add(n.Line, "must be a whole number, not %s", quoteScalar(s))
	return 0, false
}

// boolean accepts true and false (YAML 1.2's spellings); yes, no, on and
// off are booleans only to YAML 1.1 tools, so they are refused.
func (d *decoder) boolean(n *yaml.Node) (bool, bool) {
	switch {
	case n.Kind != yaml.ScalarNode:
		d.add(n.Line, "must be true or false, not a %s", kindName(n))
	case n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0:
		d.add(n.Line, "must be true or false, not the string %s; remove the quotes", quoteScalar(n.Value))
	default:
		switch n.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
		switch strings.ToLower(n.Value) {
		case "yes", "y", "on":
			d.add(n.Line, "%q is a boolean only to YAML 1.1 tools; write true", n.Value)
		case "no", "n", "off":
			d.add(n.Line, "%q is a boolean only to YAML 1.1 tools; write false", n.Value)
		default:
			d.add(n.Line, "must be true or false, not %s", quoteScalar(n.Value))
		}
	}
	return false, false
}

// controlFree reports whether scalar n holds no control character, and
// explains the one it holds. Double-quoted escapes are the usual cause: in
// "C:\app" YAML reads \a as the BEL character, so the message says to
// write Windows paths in single quotes, and shows the line as written.
func (d *decoder) controlFree(n *yaml.Node) bool {
	i := strings.IndexFunc(n.Value, unicode.IsControl)
	if i < 0 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(n.Value[i:])
	// An environment variable's value is never shown, nor the line that
	// holds it.
	secret := len(d.path) > 1 && d.path[0].name == "spec" && d.path[1].name == "env"
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0 && strings.Contains(d.sourceLine(n.Line), `\`):
		msg := fmt.Sprintf("holds the control character %s: inside double quotes YAML reads a backslash as an escape (\\a, \\t, \\n, \\r…), so a Windows path is silently changed; write Windows paths in single quotes, where a backslash is just a backslash", runeName(r))
		line := d.sourceLine(n.Line)
		if raw, ok := doubleQuoted(line, n.Column); ok && !secret && !strings.Contains(raw, "'") {
			msg += fmt.Sprintf(": '%s' (line %d reads: %s)", raw, n.Line, strings.TrimSpace(line))
		}
		d.add(n.Line, "%s", msg)
	case r == '\n' && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		d.add(n.Line, "holds a line break (from a | or > block); this value must be a single line")
	default:
		d.add(n.Line, "holds the control character %s; remove it", runeName(r))
	}
	return false
}

// sourceLine returns line l (1-based) of the document, without its line
// break.
func (d *decoder) sourceLine(l int) string {
	src := d.src
	for ; l > 1; l-- {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return ""
		}
		src = src[i+1:]
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return strings.TrimRight(string(src), "\r")
}

// doubleQuoted returns the text between the quotes of the double-quoted
// scalar that starts at column col (1-based) of line, as the user typed it.
// ok is false when the scalar does not close on that line.
func doubleQuoted(line string, col int) (string, bool) {
	// yaml.v3 counts columns in runes.
	runes := []rune(line)
	if col < 1 || col > len(runes) || runes[col-1] != '"' {
		return "", false
	}
	rest := string(runes[col:])
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '"':
			return rest[:i], true
		}
	}
	return "", false
}

// runeName names a control character for a person: "BEL (U+0007)".
func runeName(r rune) string {
	names := map[rune]string{0: "NUL", '\a': "BEL", '\b': "BS", '\t': "TAB", '\n': "LF (line break)", '\v': "VT", '\f': "FF", '\r': "CR", 0x1b: "ESC", 0x7f: "DEL"}
	if n, ok := names[r]; ok {
		return fmt.Sprintf("%s (U+%04X)", n, r)
	}
	return fmt.Sprintf("U+%04X", r)
}

// quoteScalar renders a scalar in an error message, without control
// characters.
func quoteScalar(s string) string {
	return strconv.QuoteToASCII(s)
}

// kindName names what a node is, for "must be a string, not a list".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "scalar"
	}
}

// structInfo is what the decoder knows of one manifest struct type.
type structInfo struct {
	// fields maps a JSON field name to the field.
	fields map[string]fieldInfo
	// names are the JSON field names in declaration order.
	names []string
}

type fieldInfo struct {
	index []int
	typ   reflect.Type
}

var (
	containerType = reflect.TypeFor[Container]()
	specType      = reflect.TypeFor[ContainerSpec]()
	// structInfos covers every struct type reachable from Container.
	structInfos = collectStructs(containerType, map[reflect.Type]*structInfo{})
)

// collectStructs records t and the struct types inside it, by their JSON
// field names (the names sigs.k8s.io/yaml, the JSON plan and the schema
// use).
func collectStructs(t reflect.Type, into map[reflect.Type]*structInfo) map[reflect.Type]*structInfo {
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer:
		return collectStructs(t.Elem(), into)
	case reflect.Struct:
	default:
		return into
	}
	if _, done := into[t]; done {
		return into
	}
	info := &structInfo{fields: map[string]fieldInfo{}}
	into[t] = info
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		info.fields[tag] = fieldInfo{index: f.Index, typ: f.Type}
		info.names = append(info.names, tag)
		collectStructs(f.Type, into)
	}
	return into
}
