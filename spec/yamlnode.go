package spec

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
// references: nothing is expanded here. text is, when the tree is
// fastTree's, the bytes of its scalars, which share one copy of the
// document with its comments (0 for yaml.v3's, whose values are strings
// of their own).
func parseTree(data []byte) (root *yaml.Node, text int, err error) {
	if root, text, ok := fastTree(data); ok {
		return root, text, nil
	}
	root, err = v3Tree(data)
	return root, 0, err
}

// v3Tree is parseTree by yaml.v3 alone.
func v3Tree(data []byte) (*yaml.Node, error) {
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

// isNull reports whether n is a null scalar: ~, null, or nothing at all.
func isNull(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if plainUntagged(n) {
		// What ShortTag would resolve, without resolving (see fastTree).
		switch n.Value {
		case "", "~", "null", "Null", "NULL":
			return true
		}
		return false
	}
	return n.ShortTag() == "!!null"
}

// isMergeKey reports whether k is the merge key <<.
func isMergeKey(k *yaml.Node) bool {
	if k.Kind != yaml.ScalarNode {
		return false
	}
	// yaml.v3 tags a plain << as a merge key when it parses it; ShortTag
	// never resolves an untagged one to it.
	return !plainUntagged(k) && k.ShortTag() == "!!merge"
}

// plainUntagged reports whether n is a plain scalar whose tag is left for
// ShortTag to resolve, as fastTree leaves them.
func plainUntagged(n *yaml.Node) bool {
	return n.Tag == "" && n.Style == 0
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
	_, line := walkPath(root, p)
	return line
}

// valueAt returns the value node at path p of the tree (through aliases
// and merge keys), nil if it is not written.
func valueAt(root *yaml.Node, p fieldPath) *yaml.Node {
	n, _ := walkPath(root, p)
	return n
}

// walkPath follows path p down the tree: n is the value node at p (nil if
// p is not all there) and line the line of the deepest node of p present.
func walkPath(root *yaml.Node, p fieldPath) (n *yaml.Node, line int) {
	n, line = root, root.Line
	for _, e := range p {
		switch {
		case e.kind == elemIndex && n.Kind == yaml.SequenceNode && e.index < len(n.Content):
			n = resolveAlias(n.Content[e.index])
			line = n.Line
		case e.kind != elemIndex && n.Kind == yaml.MappingNode:
			k, v := lookupKey(n, e.name, nil)
			if k == nil {
				return nil, line
			}
			n, line = resolveAlias(v), k.Line
		default:
			return nil, line
		}
	}
	return n, line
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
