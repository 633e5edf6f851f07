package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// fieldPath is where a value sits in a document, rendered as
// spec.ports[1].hostPort or spec.env["NAME"].
type fieldPath []pathElem

type pathElem struct {
	// name is a field name or, for a key element, a map key.
	name  string
	index int
	kind  elemKind
}

type elemKind uint8

const (
	elemField elemKind = iota
	elemIndex
	elemKey
)

// field builds a path of struct fields.
func field(names ...string) fieldPath {
	p := make(fieldPath, len(names))
	for i, n := range names {
		p[i] = pathElem{name: n}
	}
	return p
}

// dot, at and key return p extended by a field, a list index or a map key;
// p itself is never modified.
func (p fieldPath) dot(name string) fieldPath { return p.with(pathElem{name: name}) }

func (p fieldPath) at(i int) fieldPath { return p.with(pathElem{index: i, kind: elemIndex}) }

func (p fieldPath) key(k string) fieldPath { return p.with(pathElem{name: k, kind: elemKey}) }

func (p fieldPath) with(e pathElem) fieldPath {
	return append(p[:len(p):len(p)], e)
}

func (p fieldPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch e.kind {
		case elemIndex:
			fmt.Fprintf(&b, "[%d]", e.index)
		case elemKey:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(e.name))
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if strings.ContainsFunc(e.name, unicode.IsControl) {
				// Never print a control character a key held.
				b.WriteString(strconv.QuoteToASCII(e.name))
				continue
			}
			b.WriteString(e.name)
		}
	}
	return b.String()
}
