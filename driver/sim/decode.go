package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
)

// The state file is JSON for people: the host's fields indented, then one
// system per line, compact, so that it stays readable (and greppable) at
// 10,000 systems and half the size an indented system takes.
const (
	systemsOpen   = "\n  \"systems\": [\n"
	systemsIndent = "    "
	systemsClose  = "\n  ]\n}\n"
)

// snapshotJSON renders m as the state file (see systemsOpen).
func (m *model) snapshotJSON() ([]byte, error) {
	s := m.snapshot()
	systems := s.Systems
	s.Systems = []*systemRecord{}
	head, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	// head ends with the empty list: `"systems": []` and the closing brace.
	const empty = "\n  \"systems\": []\n}"
	if !bytes.HasSuffix(head, []byte(empty)) {
		return nil, errors.New("snapshot: the systems are not the last field")
	}
	if len(systems) == 0 {
		return append(head, '\n'), nil
	}
	out := append(head[:len(head)-len(empty)], systemsOpen...)
	for i, r := range systems {
		line, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, ",\n"...)
		}
		out = append(append(out, systemsIndent...), line...)
	}
	return append(out, systemsClose...), nil
}

// decodeSnapshot parses a state file, refusing unknown fields. A file laid
// out as snapshotJSON writes it has its systems decoded in parallel, one
// line each, lazily (see parseRecord); any other JSON, or a line that does
// not decode on its own, takes the plain decoder, whose answer is the one
// that counts.
func decodeSnapshot(data []byte) (snapshot, error) {
	if snap, ok := decodeSnapshotLines(data); ok {
		return snap, nil
	}
	var snap snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return snap, dec.Decode(&snap)
}

// decodeSnapshotLines is decodeSnapshot's fast way, for the layout of
// snapshotJSON only (one system per line, each decoded on its own, in
// parallel, lazily where it can be); ok is false when data is not in it.
func decodeSnapshotLines(data []byte) (snap snapshot, ok bool) {
	i := bytes.Index(data, []byte(systemsOpen))
	if i < 0 || bytes.Contains(data[i+1:], []byte(systemsOpen)) || !bytes.HasSuffix(data, []byte(systemsClose)) {
		return snapshot{}, false
	}
	body := data[i+len(systemsOpen) : len(data)-len(systemsClose)]
	head := append(append(bytes.Clone(data[:i]), "\n  \"systems\": []\n}"...), '\n')
	if err := decodeStrict(head, &snap); err != nil {
		return snapshot{}, false
	}
	lines, ok := systemLines(body)
	if !ok {
		return snapshot{}, false
	}
	snap.Systems = make([]*systemRecord, len(lines))
	err := parallel(len(lines), minParallel, func(k int) error {
		line, found := bytes.CutPrefix(lines[k], []byte(systemsIndent))
		if !found {
			return errNotLines
		}
		r, err := decodeRecord(line)
		snap.Systems[k] = r
		return err
	})
	return snap, err == nil
}

var errNotLines = errors.New("not one system per line")

// systemLines splits the systems' lines of the state file, each but the
// last ending with a comma (dropped); ok is false when a line does not.
// (It looks for the rare newlines, not for the commas JSON is full of.)
func systemLines(body []byte) (lines [][]byte, ok bool) {
	lines = make([][]byte, 0, bytes.Count(body, []byte{'\n'})+1)
	for {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			return append(lines, body), true
		}
		line, found := bytes.CutSuffix(body[:i], []byte{','})
		if !found {
			return nil, false
		}
		lines = append(lines, line)
		body = body[i+1:]
	}
}

// decodeStrict decodes the one JSON value in data into v, refusing unknown
// fields and anything after the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("data after the state")
	}
	return nil
}

// minParallel is the number of journal lines below which they are decoded
// in the calling goroutine.
const minParallel = 256

// parallel runs fn(0) … fn(n-1) on up to GOMAXPROCS goroutines, each on a
// contiguous share of at least least items, and returns the error of the
// lowest index that failed.
func parallel(n, least int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/least)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				if errs[w] = fn(i); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
