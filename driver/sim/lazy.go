package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// Reading a host of 10,000 systems must not decode 10,000 specs: a record
// read from the files in the layout json.Marshal writes has its summary
// (what List shows) taken straight from its line, and keeps the line as
// lazy; its processes and spec are decoded, strictly, when first needed
// (full). Any other layout is decoded at once, as before.

// plainRecord is systemRecord without its JSON methods.
type plainRecord systemRecord

// MarshalJSON writes the record; a record not decoded in full is written
// as it was read.
func (r *systemRecord) MarshalJSON() ([]byte, error) {
	if r.lazy != nil {
		return r.lazy, nil
	}
	return json.Marshal((*plainRecord)(r))
}

// full decodes the processes and the spec of a record read lazily. A
// record whose line is valid JSON but not a valid record is reported then,
// as ErrStateDamaged.
func (r *systemRecord) full() error {
	if r.lazy == nil {
		return nil
	}
	var d plainRecord
	if err := decodeStrict(r.lazy, &d); err != nil {
		return fmt.Errorf("%w: system %s in the state file or its journal is not a valid record (%v): it was edited; restore the state from a backup", ErrStateDamaged, r.ID, err)
	}
	r.Processes, r.VMWorker, r.Spec, r.lazy = d.Processes, d.VMWorker, d.Spec, nil
	return nil
}

// decodeRecord decodes one record: lazily when line is in the layout
// json.Marshal writes, else in full and strictly.
func decodeRecord(line []byte) (*systemRecord, error) {
	if r, ok := parseRecord(line); ok {
		return r, nil
	}
	var d plainRecord
	if err := decodeStrict(line, &d); err != nil {
		return nil, err
	}
	r := systemRecord(d)
	return &r, nil
}

// decodeEntry decodes one journal line; the record of a put is read
// lazily when the line is laid out as json.Marshal writes it.
func decodeEntry(line []byte) (entry, error) {
	if e, ok := lazyEntry(line); ok {
		return e, nil
	}
	var e entry
	err := json.Unmarshal(line, &e)
	return e, err
}

// lazyEntry reads a put entry laid out as json.Marshal writes it, its
// record lazily (see parseRecord); ok is false for any other line.
func lazyEntry(line []byte) (e entry, ok bool) {
	p := lineParser{data: line}
	if p.opt(`{"seq":`) {
		e.Seq = p.uint(64)
		p.lit(`,"op":"put","system":`)
	} else {
		p.lit(`{"op":"put","system":`)
	}
	start := p.at
	p.value(0)
	record := line[start:p.at]
	if p.opt(`,"nextPID":`) {
		e.NextPID = uint32(p.uint(32))
	}
	p.lit(`}`)
	if p.bad || p.at != len(line) {
		return entry{}, false
	}
	r, ok := parseRecord(bytes.Clone(record))
	if !ok {
		return entry{}, false
	}
	e.Op, e.System = opPut, r
	return e, true
}

// parseRecord reads the summary of a record from line, when line is valid
// JSON laid out as json.Marshal writes a record, with no escapes in the
// summary's strings; ok is false otherwise. It checks the whole line as
// json.Valid would, without decoding the processes and the spec.
func parseRecord(line []byte) (r *systemRecord, ok bool) {
	p := lineParser{data: line}
	r = &systemRecord{}
	r.ID = p.field(`{"id":`)
	r.Name = p.field(`,"name":`)
	r.Owner = p.field(`,"owner":`)
	r.Isolation = spec.Isolation(p.field(`,"isolation":`))
	r.Image = p.field(`,"image":`)
	r.State = driver.State(p.field(`,"state":`))
	if p.opt(`,"specHash":`) {
		r.SpecHash = p.str()
	}
	p.lit(`,"exitCode":`)
	r.ExitCode = p.int()
	p.lit(`,"created":`)
	r.Created = p.time()
	if p.opt(`,"hostOS":{"build":`) {
		r.HostOS.Build = uint32(p.uint(32))
		p.lit(`,"revision":`)
		r.HostOS.Revision = uint32(p.uint(32))
		p.lit(`}`)
	}
	p.lit(`,"processes":`)
	p.value(0)
	if p.opt(`,"vmWorker":`) {
		p.value(0)
	}
	p.lit(`,"spec":`)
	p.value(0)
	p.lit(`}`)
	if p.bad || p.at != len(line) {
		return nil, false
	}
	r.lazy = line
	return r, true
}

// lineParser reads a line of known layout; bad is set at the first thing
// out of place, and every later call does nothing.
type lineParser struct {
	data []byte
	at   int
	bad  bool
}

func (p *lineParser) lit(s string) {
	if !p.opt(s) {
		p.bad = true
	}
}

func (p *lineParser) opt(s string) bool {
	if p.bad || !bytes.HasPrefix(p.data[p.at:], []byte(s)) {
		return false
	}
	p.at += len(s)
	return true
}

// plainString reports whether b is the content of a JSON string that
// decodes to itself: no backslash, no control character, valid UTF-8.
func plainString(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return false
		}
		ascii = ascii && c < 0x80
	}
	return ascii || utf8.Valid(b)
}

// field reads key, then a string without escapes.
func (p *lineParser) field(key string) string {
	p.lit(key)
	return p.str()
}

// str reads a string without escapes.
func (p *lineParser) str() string {
	raw := p.quoted()
	if len(raw) < 2 {
		return ""
	}
	return string(raw[1 : len(raw)-1])
}

// quoted reads a string without escapes, with its quotes.
func (p *lineParser) quoted() []byte {
	if p.bad || p.at >= len(p.data) || p.data[p.at] != '"' {
		p.bad = true
		return nil
	}
	end := bytes.IndexByte(p.data[p.at+1:], '"')
	if end < 0 || !plainString(p.data[p.at+1:p.at+1+end]) {
		p.bad = true
		return nil
	}
	s := p.data[p.at : p.at+end+2]
	p.at += end + 2
	return s
}

// uint reads a JSON number that is an unsigned integer of bits bits.
func (p *lineParser) uint(bits int) uint64 {
	n, err := strconv.ParseUint(p.numberText(), 10, bits)
	if err != nil {
		p.bad = true
	}
	return n
}

// int reads a JSON number that is an int.
func (p *lineParser) int() int {
	n, err := strconv.Atoi(p.numberText())
	if err != nil {
		p.bad = true
	}
	return n
}

// numberText reads a JSON number and returns its text.
func (p *lineParser) numberText() string {
	if p.bad {
		return ""
	}
	start := p.at
	p.number()
	return string(p.data[start:p.at])
}

func (p *lineParser) time() time.Time {
	var t time.Time
	if raw := p.quoted(); !p.bad {
		if err := t.UnmarshalJSON(raw); err != nil {
			p.bad = true
		}
	}
	return t
}

// maxDepth bounds the nesting value accepts.
const maxDepth = 1000

// value passes over one JSON value, checking it as json.Valid would.
func (p *lineParser) value(depth int) {
	if p.bad || depth > maxDepth || p.at >= len(p.data) {
		p.bad = true
		return
	}
	switch c := p.data[p.at]; {
	case c == '{':
		p.members("}", func() {
			p.string()
			p.ws()
			p.lit(":")
			p.ws()
			p.value(depth + 1)
		})
	case c == '[':
		p.members("]", func() { p.value(depth + 1) })
	case c == '"':
		p.string()
	case c == '-' || c >= '0' && c <= '9':
		p.number()
	case !p.opt("true") && !p.opt("false") && !p.opt("null"):
		p.bad = true
	}
}

// members passes over the members of an object or array, each read by
// item, up to end.
func (p *lineParser) members(end string, item func()) {
	p.at++
	p.ws()
	if p.opt(end) {
		return
	}
	for !p.bad {
		item()
		p.ws()
		if p.opt(end) {
			return
		}
		p.lit(",")
		p.ws()
	}
}

func (p *lineParser) ws() {
	for p.at < len(p.data) {
		switch p.data[p.at] {
		case ' ', '\t', '\n', '\r':
			p.at++
		default:
			return
		}
	}
}

// string passes over a JSON string, escapes and all.
func (p *lineParser) string() {
	if p.bad || p.at >= len(p.data) || p.data[p.at] != '"' {
		p.bad = true
		return
	}
	// (Invalid UTF-8 is accepted, as by encoding/json, which decodes it as
	// U+FFFD.)
	for i := p.at + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			p.at = i + 1
			return
		case c < 0x20:
			p.bad = true
			return
		case c == '\\':
			i++
			if i >= len(p.data) {
				p.bad = true
				return
			}
			switch p.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(p.data) || !isHex(p.data[i+1:i+5]) {
					p.bad = true
					return
				}
				i += 4
			default:
				p.bad = true
				return
			}
		}
	}
	p.bad = true
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number passes over a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *lineParser) number() {
	p.opt("-")
	switch {
	case p.opt("0"):
	case p.at < len(p.data) && p.data[p.at] >= '1' && p.data[p.at] <= '9':
		p.digits()
	default:
		p.bad = true
		return
	}
	if p.opt(".") {
		p.need(p.digits())
	}
	if p.opt("e") || p.opt("E") {
		if !p.opt("+") {
			p.opt("-")
		}
		p.need(p.digits())
	}
}

// digits passes over digits and reports whether there was one.
func (p *lineParser) digits() bool {
	start := p.at
	for p.at < len(p.data) && p.data[p.at] >= '0' && p.data[p.at] <= '9' {
		p.at++
	}
	return p.at > start
}

func (p *lineParser) need(ok bool) {
	if !ok {
		p.bad = true
	}
}
