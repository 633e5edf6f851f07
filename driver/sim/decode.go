package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
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
// line each; any other JSON, or a line that does not decode on its own,
// takes the plain decoder, whose answer is the one that counts.
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
// snapshotJSON only; ok is false when data is not in it. The systems are
// cut into one share per core at line ends, and each share is decoded as
// one strict JSON array.
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
	// Cut body at line ends (",\n" between two systems) into shares.
	shares := runtime.GOMAXPROCS(0)
	var cuts [][]byte
	for rest := body; len(rest) > 0; {
		at := len(rest)
		if want := len(body) / shares; len(cuts) < shares-1 && want < len(rest) {
			if k := bytes.Index(rest[want:], []byte(",\n")); k >= 0 {
				at = want + k
			}
		}
		cuts = append(cuts, rest[:at])
		rest = bytes.TrimPrefix(rest[at:], []byte(",\n"))
	}
	parts := make([][]*systemRecord, len(cuts))
	err := parallel(len(cuts), 1, func(k int) error {
		array := append(append(append(make([]byte, 0, len(cuts[k])+2), '['), cuts[k]...), ']')
		return decodeStrict(array, &parts[k])
	})
	if err != nil {
		return snapshot{}, false
	}
	snap.Systems = slices.Concat(parts...)
	return snap, true
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
