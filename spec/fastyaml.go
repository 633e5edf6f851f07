package spec

import (
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// fastTree parses the shape nearly every manifest has — block mappings and
// lists, one-line plain or quoted scalars, one-line flow collections,
// comments — into the tree yaml.v3 builds for it, at a fraction of the
// cost: the nodes of a document come from one array, the children of its
// collections from another, and every value is a slice of one copy of the
// text (yaml.v3 allocates each node, each value and its parser's buffers
// apart, which is most of what loading a manifest allocates).
//
// ok is false for anything else — anchors and aliases, tags, merge keys,
// block scalars (| and >), a scalar or a flow collection over several
// lines, escapes in double quotes, quoted or complex keys, empty values,
// tabs, characters YAML does not print or reads as line breaks,
// directives, and every syntax error — and then
// yaml.v3 parses the document: its tree, and its error messages, stay the
// reference. FuzzFastTree holds fastTree to yaml.v3's tree wherever it
// answers: the same kinds, styles, tags, values, lines and columns (not
// comments, which nothing here reads). text is the bytes of its scalars,
// which share the document's text with its comments: a decoder that keeps
// values copies them out of it (see decoder.keep). Plain scalars keep an
// empty Tag,
// which yaml.Node.ShortTag resolves as yaml.v3 does; isNull and
// isMergeKey answer for them without resolving.
func fastTree(data []byte) (root *yaml.Node, text int, ok bool) {
	// est is about how many nodes the document has: two per key, one per
	// flow entry after the first, a list's node and its first item, a
	// mapping's node.
	est, ascii := 1, true
	for i, c := range data {
		switch {
		case c >= 0x80:
			ascii = false
		case c == 0x7f, c < ' ' && c != '\n' && c != '\r':
			return nil, 0, false
		case c == ':' || c == '-':
			if i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n' || data[i+1] == '\r' {
				est += 2
			}
		case c == ',' || c == '{':
			est++
		case c == '[':
			est += 2
		}
	}
	if !ascii && !printable(data) {
		return nil, 0, false
	}
	p := fastParsers.Get().(*fastParser)
	defer p.release()
	p.src = string(data)
	// A small document's nodes come from one array; a big one's from
	// arrays that double, so a file that stops early costs little.
	est = min(est, firstChunk)
	p.nodes = make([]yaml.Node, 0, est)
	p.ptrs = make([]*yaml.Node, 0, est)
	for off := 0; off < len(p.src); {
		end := strings.IndexByte(p.src[off:], '\n')
		if end < 0 {
			end = len(p.src)
		} else {
			end += off
		}
		p.lineNo++
		line := strings.TrimSuffix(p.src[off:end], "\r")
		p.cur, p.ascii = line, ascii || isASCII(line)
		if strings.IndexByte(line, '\r') >= 0 || !p.line(line) {
			return nil, 0, false
		}
		off = end + 1
	}
	if p.root == nil || p.pending {
		return nil, 0, false
	}
	for len(p.frames) > 0 {
		p.pop()
	}
	return p.root, p.text, true
}

// fastParser is fastTree's state while it reads a document line by line.
type fastParser struct {
	src    string
	lineNo int
	// cur is the line being read; ascii is set when it is all ASCII
	// (yaml.v3 counts columns in characters).
	cur   string
	ascii bool
	// nodes and ptrs are the arrays the nodes and the children of
	// collections come from; more are allocated when one is full.
	nodes []yaml.Node
	ptrs  []*yaml.Node
	// kids are the children of the open collections, innermost last.
	kids []*yaml.Node
	// frames are the open block collections, innermost last.
	frames []blockFrame
	root   *yaml.Node
	// text is the bytes of the scalars read.
	text int
	// pending is set when the innermost mapping's last key has no value
	// on its line: the value is the block collection on the lines after.
	pending bool
	// depth is the nesting of the flow collection being read.
	depth int
}

// blockFrame is an open block collection.
type blockFrame struct {
	node *yaml.Node
	// indent is the column (0-based) of its keys or its dashes.
	indent int
	// kids is where its children start in fastParser.kids.
	kids int
}

// firstChunk is the most nodes allocated before any is read: about what
// the largest manifest has.
const firstChunk = 256

// maxFlowDepth bounds the nesting of flow collections fastTree reads
// (deeper ones go to yaml.v3, which has its own bound).
const maxFlowDepth = 32

// maxSimpleKey is YAML's bound on the length of a key written without
// "? ": a longer one is yaml.v3's error to report.
const maxSimpleKey = 1024

var fastParsers = sync.Pool{New: func() any { return new(fastParser) }}

// release returns p to the pool, keeping only its scratch space, and not
// the scratch of a huge document.
func (p *fastParser) release() {
	clear(p.kids[:cap(p.kids)])
	clear(p.frames[:cap(p.frames)])
	kids, frames := p.kids[:0], p.frames[:0]
	if cap(kids) > firstChunk*16 {
		kids = nil
	}
	*p = fastParser{kids: kids, frames: frames}
	fastParsers.Put(p)
}

// newNode returns a node from the array, at 0-based column col of the
// current line.
func (p *fastParser) newNode(kind yaml.Kind, tag, value string, col int) *yaml.Node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]yaml.Node, 0, max(16, cap(p.nodes)))
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	*n = yaml.Node{Kind: kind, Tag: tag, Value: value, Line: p.lineNo, Column: col + 1}
	p.text += len(value)
	if !p.ascii {
		n.Column = utf8.RuneCountInString(p.cur[:col]) + 1
	}
	return n
}

// open starts a collection of kind at col, whose children follow on
// p.kids.
func (p *fastParser) open(kind yaml.Kind, col int) (*yaml.Node, int) {
	tag := "!!map"
	if kind == yaml.SequenceNode {
		tag = "!!seq"
	}
	n := p.newNode(kind, tag, "", col)
	p.kids = append(p.kids, n)
	return n, len(p.kids)
}

// close gives n the children on p.kids from start, from the array.
func (p *fastParser) close(n *yaml.Node, start int) {
	k := len(p.kids) - start
	if k == 0 {
		p.kids = p.kids[:start]
		return
	}
	if len(p.ptrs)+k > cap(p.ptrs) {
		p.ptrs = make([]*yaml.Node, 0, max(k, 16, cap(p.ptrs)))
	}
	at := len(p.ptrs)
	p.ptrs = append(p.ptrs, p.kids[start:]...)
	n.Content = p.ptrs[at : at+k : at+k]
	p.kids = p.kids[:start]
}

// push opens a block collection at column col.
func (p *fastParser) push(kind yaml.Kind, col int) {
	n, start := p.open(kind, col)
	if p.root == nil {
		p.root, p.kids = n, p.kids[:0]
		start = 0
	}
	p.frames = append(p.frames, blockFrame{node: n, indent: col, kids: start})
}

// pop closes the innermost block collection.
func (p *fastParser) pop() {
	f := p.frames[len(p.frames)-1]
	p.frames = p.frames[:len(p.frames)-1]
	p.close(f.node, f.kids)
}

// line reads one line of the document; false means it is not of the shape
// fastTree reads.
func (p *fastParser) line(line string) bool {
	ind := 0
	for ind < len(line) && line[ind] == ' ' {
		ind++
	}
	if ind == len(line) || line[ind] == '#' {
		return true // blank or a comment
	}
	if ind == 0 && (strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...") || line[0] == '%') {
		// Only a bare "---" before the content: a marker with content,
		// an end marker or a directive is yaml.v3's to read.
		return p.root == nil && strings.HasPrefix(line, "---") && blankToComment(line, 3)
	}
	dash := isDash(line, ind)
	switch {
	case p.pending:
		// The value of the last key: a collection indented under it,
		// or a list at its column.
		top := p.frames[len(p.frames)-1]
		p.pending = false
		switch {
		case dash && ind >= top.indent:
			p.push(yaml.SequenceNode, ind)
		case !dash && ind > top.indent:
			p.push(yaml.MappingNode, ind)
		default:
			return false // an empty value
		}
	case p.root == nil:
		if dash {
			return false
		}
		p.push(yaml.MappingNode, ind)
	default:
		for len(p.frames) > 0 {
			top := p.frames[len(p.frames)-1]
			if top.indent < ind || top.indent == ind && (top.node.Kind == yaml.SequenceNode) == dash {
				break
			}
			p.pop()
		}
		if len(p.frames) == 0 {
			return false
		}
		if top := p.frames[len(p.frames)-1]; top.indent != ind || (top.node.Kind == yaml.SequenceNode) != dash {
			return false
		}
	}
	if !dash {
		return p.entry(line, ind)
	}
	// A list item: a scalar or a flow collection, or a mapping whose
	// first key is on the dash's line.
	v := ind + 1
	for v < len(line) && line[v] == ' ' {
		v++
	}
	switch {
	case v == len(line) || line[v] == '#' || isDash(line, v):
		return false // an empty item, or a list in a list
	case strings.IndexByte("[{'\"", line[v]) < 0 && keyColon(line, v) >= 0:
		p.push(yaml.MappingNode, v)
		return p.entry(line, v)
	}
	return p.value(line, v)
}

// entry reads the mapping entry "key: value" whose key starts at column
// k: the key, then the value on the line or, with none, pending.
func (p *fastParser) entry(line string, k int) bool {
	colon := keyColon(line, k)
	if colon < 0 || !plainStart(line, k) {
		return false
	}
	key := strings.TrimRight(line[k:colon], " ")
	if key == "<<" || len(key) >= maxSimpleKey {
		return false
	}
	p.kids = append(p.kids, p.newNode(yaml.ScalarNode, "", key, k))
	v := colon + 1
	for v < len(line) && line[v] == ' ' {
		v++
	}
	if v == len(line) || line[v] == '#' {
		p.pending = true
		return true
	}
	return p.value(line, v)
}

// value reads the scalar or flow collection at column v, which ends the
// line (but for a comment).
func (p *fastParser) value(line string, v int) bool {
	var end int
	switch line[v] {
	case '[', '{':
		end = p.flow(line, v)
	case '\'', '"':
		end = p.quoted(line, v)
	default:
		if !plainStart(line, v) {
			return false
		}
		end = v
		for ; end < len(line); end++ {
			c := line[end]
			if c == ':' && (end+1 == len(line) || line[end+1] == ' ') {
				return false // "a: b: c", or a key in a value
			}
			if c == '#' && line[end-1] == ' ' {
				break
			}
		}
		return p.plain(line[v:end], v)
	}
	return end > 0 && blankToComment(line, end)
}

// quoted reads the one-line quoted scalar at column i and returns where it
// ends, 0 if it does not end on the line or has an escape (yaml.v3 reads
// those).
func (p *fastParser) quoted(line string, i int) int {
	q := line[i]
	doubled := false
	for j := i + 1; j < len(line); j++ {
		switch {
		case q == '"' && line[j] == '\\':
			return 0
		case line[j] != q:
		case q == '\'' && j+1 < len(line) && line[j+1] == '\'':
			doubled = true
			j++
		default:
			s := line[i+1 : j]
			style, tag := yaml.DoubleQuotedStyle, "!!str"
			if q == '\'' {
				style = yaml.SingleQuotedStyle
				if doubled {
					s = strings.ReplaceAll(s, "''", "'")
				}
			}
			n := p.newNode(yaml.ScalarNode, tag, s, i)
			n.Style = style
			p.kids = append(p.kids, n)
			return j + 1
		}
	}
	return 0
}

// flow reads the one-line flow collection at column i ([ or {) and
// returns where it ends, 0 when it is not of the shape fastTree reads: no
// nested multi-line, empty or trailing entries, no ':', '#' or '?' in a
// plain scalar, no single-pair mapping in a list.
func (p *fastParser) flow(line string, i int) int {
	if p.depth++; p.depth > maxFlowDepth {
		return 0
	}
	defer func() { p.depth-- }()
	kind, closer := yaml.SequenceNode, byte(']')
	if line[i] == '{' {
		kind, closer = yaml.MappingNode, '}'
	}
	n, start := p.open(kind, i)
	n.Style = yaml.FlowStyle
	j := skipSpaces(line, i+1)
	if j < len(line) && line[j] == closer {
		p.close(n, start)
		return j + 1
	}
	for {
		if kind == yaml.MappingNode {
			k := j
			for j < len(line) && !(line[j] == ':' && j+1 < len(line) && line[j+1] == ' ') {
				if strings.IndexByte(",[]{}#:?", line[j]) >= 0 {
					return 0
				}
				j++
			}
			key := strings.TrimRight(line[k:j], " ")
			if j == len(line) || key == "" || key == "<<" || !plainStart(line, k) || len(key) >= maxSimpleKey {
				return 0
			}
			p.kids = append(p.kids, p.newNode(yaml.ScalarNode, "", key, k))
			j = skipSpaces(line, j+1)
		}
		if j = p.flowItem(line, j); j == 0 {
			return 0
		}
		j = skipSpaces(line, j)
		switch {
		case j == len(line):
			return 0
		case line[j] == closer:
			p.close(n, start)
			return j + 1
		case line[j] != ',':
			return 0
		}
		if j = skipSpaces(line, j+1); j == len(line) || line[j] == closer {
			return 0 // a trailing comma
		}
	}
}

// flowItem reads the value at column j of a flow collection and returns
// where it ends, 0 when fastTree does not read it.
func (p *fastParser) flowItem(line string, j int) int {
	if j == len(line) {
		return 0
	}
	switch line[j] {
	case '[', '{':
		return p.flow(line, j)
	case '\'', '"':
		return p.quoted(line, j)
	}
	if !plainStart(line, j) {
		return 0
	}
	end := j
	for end < len(line) && strings.IndexByte(",[]{}", line[end]) < 0 {
		if strings.IndexByte(":#?", line[end]) >= 0 {
			return 0 // what ends a plain scalar in flow, to YAML 1.1 or 1.2
		}
		end++
	}
	if !p.plain(line[j:end], j) {
		return 0
	}
	return end
}

// plain adds the plain scalar s (trailing blanks dropped) at column col,
// but for <<, which yaml.v3 tags as a merge key wherever it is.
func (p *fastParser) plain(s string, col int) bool {
	s = strings.TrimRight(s, " ")
	if s == "<<" {
		return false
	}
	p.kids = append(p.kids, p.newNode(yaml.ScalarNode, "", s, col))
	return true
}

// printable reports whether data is UTF-8 made only of the characters
// YAML reads as printable, without the line breaks YAML 1.1 adds (NEL, LS,
// PS) and without a byte order mark: what yaml.v3 reads as fastTree does.
func printable(data []byte) bool {
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029, r >= 0xd800 && r < 0xe000, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
		data = data[size:]
	}
	return true
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// plainStart reports whether a plain scalar may start at line[i] as
// fastTree reads it: not with an indicator, but for a dash before a
// letter or a digit (-t).
func plainStart(line string, i int) bool {
	c := line[i]
	if c == '-' {
		return i+1 < len(line) && isAlnum(line[i+1])
	}
	return strings.IndexByte("-?:,[]{}#&*!|>'\"%@`", c) < 0
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isDash reports whether a block list entry ("- " or a lone "-") starts at
// line[i].
func isDash(line string, i int) bool {
	return line[i] == '-' && (i+1 == len(line) || line[i+1] == ' ')
}

// keyColon returns the index of the ':' that ends a plain key starting at
// line[k]: the first followed by a blank or the end of the line, before a
// comment; -1 when there is none.
func keyColon(line string, k int) int {
	for j := k; j < len(line); j++ {
		switch line[j] {
		case ':':
			if j+1 == len(line) || line[j+1] == ' ' {
				return j
			}
		case '#':
			if j > k && line[j-1] == ' ' {
				return -1
			}
		}
	}
	return -1
}

func skipSpaces(line string, j int) int {
	for j < len(line) && line[j] == ' ' {
		j++
	}
	return j
}

// blankToComment reports whether line holds nothing from column i on but
// blanks and a comment after at least one blank.
func blankToComment(line string, i int) bool {
	j := skipSpaces(line, i)
	return j == len(line) || line[j] == '#' && j > i
}
