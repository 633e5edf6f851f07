package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// header is the journal's first line: the snapshot it extends (host id,
// generation, and the sequence number its entries continue from) and how
// many bytes of the journal are committed. A journal of the format before
// host ids has only op and generation.
type header struct {
	Op         string `json:"op"`
	HostID     string `json:"hostID"`
	Generation uint64 `json:"generation"`
	Seq        uint64 `json:"seq"`
	Committed  int64  `json:"committed"`
}

// committedWidth is the committed mark's width in bytes: it is rewritten in
// place after every append, so it never changes the line's length.
const committedWidth = 20

// maxHeader bounds the first line; a longer one is not a journal's.
const maxHeader = 4096

// headerIdent is the first line of m's journal up to its committed mark:
// what identifies the journal.
func headerIdent(m *model) []byte {
	id, _ := json.Marshal(m.hostID) // a string: cannot fail
	return fmt.Appendf(nil, `{"op":%q,"hostID":%s,"generation":%d,"seq":%d,"committed":`, opBegin, id, m.generation, m.seq)
}

// journalHeader is the first line of a new journal for m: its committed
// mark counts the line itself.
func journalHeader(m *model) []byte {
	ident := headerIdent(m)
	n := int64(len(ident) + committedWidth + len("}\n"))
	return append(append(ident, committedMark(n)...), "}\n"...)
}

// committedMark renders n as the committed mark, padded to its width
// (trailing spaces are JSON whitespace).
func committedMark(n int64) []byte {
	return fmt.Appendf(nil, "%-*d", committedWidth, n)
}

// readHead reads the start of the journal, enough for its first line.
func readHead(f *os.File) ([]byte, error) {
	buf := make([]byte, maxHeader)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// parseHeader parses the journal's first line at the start of data. It
// returns the header, the line's identity (up to the committed mark; the
// whole line for the format before host ids) and the line's length with
// its newline.
func parseHeader(data []byte) (header, []byte, int, error) {
	line, _, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return header{}, nil, 0, errors.New("no complete first line")
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return header{}, nil, 0, err
	}
	if h.Op != opBegin {
		return header{}, nil, 0, fmt.Errorf("op %q, want %q", h.Op, opBegin)
	}
	if h.HostID == "" {
		return h, line, len(line) + 1, nil
	}
	key := []byte(`"committed":`)
	i := bytes.Index(line, key)
	if i < 0 || len(line) != i+len(key)+committedWidth+1 {
		return header{}, nil, 0, errors.New("the committed mark is not where it belongs")
	}
	return h, line[:i+len(key)], len(line) + 1, nil
}
