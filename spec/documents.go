package spec

import (
	"bytes"
	"strings"
)

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
