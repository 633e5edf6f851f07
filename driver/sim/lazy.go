package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

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
	if d.RecordDetail == nil {
		d.RecordDetail = &RecordDetail{}
	}
	r.RecordDetail, r.lazy = d.RecordDetail, nil
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
	r, ok := parseRecord(record)
	if !ok {
		return entry{}, false
	}
	e.Op, e.System = opPut, r
	return e, true
}

// parseRecord reads the summary of a record from line, when line is valid
// JSON laid out as json.Marshal writes a record, with no escapes in the
// summary's strings; ok is false otherwise. It checks the whole line as
// json.Valid would, without decoding the processes and the spec. The
// record's strings share line's memory: line must not be modified after.
func parseRecord(line []byte) (r *systemRecord, ok bool) {
	p := lineParser{data: line}
	r = &systemRecord{}
	// The summary's strings are read as spans of the line, then cut from
	// the line itself, not a copy: the record keeps the line anyway (as
	// lazy, until full), and a line is never written to once read (it is
	// what MarshalJSON writes back). A copy would be ~200 bytes a system,
	// 2 MB of the agent's heap at 10,000 systems.
	var spans [7][2]int
	keys := [...]string{`{"id":`, `,"name":`, `,"owner":`, `,"isolation":`, `,"image":`, `,"state":`}
	for i, key := range keys {
		p.lit(key)
		spans[i] = p.span()
	}
	if p.opt(`,"specHash":`) {
		spans[6] = p.span()
	}
	if p.bad {
		return nil, false
	}
	summary := unsafe.String(unsafe.SliceData(line), p.at)
	r.ID, r.Name, r.Owner = summary[spans[0][0]:spans[0][1]], summary[spans[1][0]:spans[1][1]], summary[spans[2][0]:spans[2][1]]
	r.Isolation, r.Image = spec.Isolation(summary[spans[3][0]:spans[3][1]]), summary[spans[4][0]:spans[4][1]]
	r.State, r.SpecHash = driver.State(summary[spans[5][0]:spans[5][1]]), summary[spans[6][0]:spans[6][1]]
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

// span reads a string without escapes and returns where its content
// starts and ends in the line.
func (p *lineParser) span() [2]int {
	start := p.at
	raw := p.quoted()
	if len(raw) < 2 {
		return [2]int{}
	}
	return [2]int{start + 1, p.at - 1}
}

// char passes over c when it is next.
func (p *lineParser) char(c byte) bool {
	if p.bad || p.at >= len(p.data) || p.data[p.at] != c {
		return false
	}
	p.at++
	return true
}

// needChar passes over c, which must be next.
func (p *lineParser) needChar(c byte) {
	p.need(p.char(c))
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
	n, ok := parseDecimal(p.numberText(), uint64(1)<<bits-1)
	p.need(ok)
	return n
}

// int reads a JSON number that is an int.
func (p *lineParser) int() int {
	text := p.numberText()
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	limit := uint64(1)<<(strconv.IntSize-1) - 1
	if neg {
		limit++
	}
	n, ok := parseDecimal(text, limit)
	p.need(ok)
	if neg {
		return int(-n) //nolint:gosec // n <= -math.MinInt: checked against limit
	}
	return int(n) //nolint:gosec // n <= math.MaxInt: checked against limit
}

// parseDecimal reads text, decimal digits only, as a number of at most
// limit, as strconv.ParseUint would without allocating a string.
func parseDecimal(text []byte, limit uint64) (uint64, bool) {
	if len(text) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range text {
		d := uint64(c - '0')
		if c < '0' || c > '9' || n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// numberText reads a JSON number and returns its text.
func (p *lineParser) numberText() []byte {
	if p.bad {
		return nil
	}
	start := p.at
	p.number()
	return p.data[start:p.at]
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
		p.members('}', depth+1)
	case c == '[':
		p.members(']', depth+1)
	case c == '"':
		p.string()
	case c == '-' || c >= '0' && c <= '9':
		p.number()
	case !p.opt("true") && !p.opt("false") && !p.opt("null"):
		p.bad = true
	}
}

// members passes over the members of an object (end '}': each a string,
// a colon and a value) or an array (end ']': each a value) up to end; the
// values are at depth.
func (p *lineParser) members(end byte, depth int) {
	p.at++
	p.ws()
	if p.char(end) {
		return
	}
	for !p.bad {
		if end == '}' {
			p.string()
			p.ws()
			p.needChar(':')
			p.ws()
		}
		p.value(depth)
		p.ws()
		if p.char(end) {
			return
		}
		p.needChar(',')
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
	p.char('-')
	switch {
	case p.char('0'):
	case p.at < len(p.data) && p.data[p.at] >= '1' && p.data[p.at] <= '9':
		p.digits()
	default:
		p.bad = true
		return
	}
	if p.char('.') {
		p.need(p.digits())
	}
	if p.char('e') || p.char('E') {
		if !p.char('+') {
			p.char('-')
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
