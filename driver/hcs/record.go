package hcs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// maxRecordedLists bounds how many distinct compute system lists one
// recording keeps: a conformance run makes a few dozen.
const maxRecordedLists = 200

// recording keeps what a real host answered while the driver ran with
// Options.RecordDir: every distinct compute system list (the raw JSON of
// HcsEnumerateComputeSystems) and every distinct HCS failure (operation,
// code and text), with the host's build and the date. It is how the
// reconstructed fixtures of testdata/ are replaced by recorded ones
// (test/windows/run.ps1 -Record). Nothing it writes holds an environment
// value or a credential: lists are HCS's own view of the systems, and error
// texts are HCS's.
type recording struct {
	dir string

	mu       sync.Mutex
	lists    map[string]bool // names of the lists kept: a prefix of their sha256
	failures []recordedFailure
	err      error // the first write that failed
}

// recordedHost is host.json of a recording.
type recordedHost struct {
	Build            string `json:"build"`
	InstallationType string `json:"installationType"`
	HyperV           bool   `json:"hyperV"`
	Date             string `json:"date"`
}

// recordedFailure is one entry of errors.json.
type recordedFailure struct {
	Op    string `json:"op"`
	Code  string `json:"code"`
	Text  string `json:"text"`
	Count int    `json:"count"`
}

// activeRecording is the recording of the driver that asked for one, or
// nil. The calls that fail or list live below the Driver (enumerate,
// hcsError), so they reach the recording through this; a process records
// for one driver at most (New refuses a second).
var activeRecording atomic.Pointer[recording]

// startRecording creates dir (and its lists/ folder), writes host.json and
// makes the recording active.
func startRecording(dir string, host hostRegistryValues, now time.Time) (*recording, error) {
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o755); err != nil {
		return nil, fmt.Errorf("hcs driver: recording: %w", err)
	}
	meta, err := json.MarshalIndent(recordedHost{
		Build:            fmt.Sprintf("10.0.%s.%d", host.CurrentBuildNumber, host.UBR),
		InstallationType: host.InstallationType,
		HyperV:           host.VMMS && host.HypervisorPresent,
		Date:             now.UTC().Format(time.DateOnly),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("hcs driver: recording: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "host.json"), append(meta, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("hcs driver: recording: %w", err)
	}
	r := &recording{dir: dir, lists: make(map[string]bool)}
	// A run opens one driver after another (the conformance suite, one per
	// test): each adds to what the earlier ones kept.
	kept, err := filepath.Glob(filepath.Join(dir, "lists", "*.json"))
	if err != nil {
		return nil, fmt.Errorf("hcs driver: recording: %w", err)
	}
	for _, f := range kept {
		r.lists[strings.TrimSuffix(filepath.Base(f), ".json")] = true
	}
	if data, err := os.ReadFile(filepath.Join(dir, "errors.json")); err == nil {
		if err := json.Unmarshal(data, &r.failures); err != nil {
			return nil, fmt.Errorf("hcs driver: recording: %s: %w", filepath.Join(dir, "errors.json"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("hcs driver: recording: %w", err)
	}
	if !activeRecording.CompareAndSwap(nil, r) {
		return nil, fmt.Errorf("hcs driver: recording: another driver of this process records already")
	}
	return r, nil
}

// stop makes the recording inactive and returns the first write that
// failed: recording never fails the driver's work, and says at the end
// what it could not keep.
func (r *recording) stop() error {
	activeRecording.CompareAndSwap(r, nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// keep notes the first write that failed. r.mu is held.
func (r *recording) keep(err error) {
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("hcs driver: recording: %w", err)
	}
}

// list keeps raw, a compute system list, unless the same list was kept
// already or the recording is full. A nil recording keeps nothing.
func (r *recording) list(raw []byte) {
	if r == nil {
		return
	}
	sum := sha256.Sum256(raw)
	key := hex.EncodeToString(sum[:6]) // the file's name
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lists[key] || len(r.lists) >= maxRecordedLists {
		return
	}
	r.lists[key] = true
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(raw) // kept as HCS wrote it: the oddity is the point
	}
	pretty.WriteByte('\n')
	name := filepath.Join(r.dir, "lists", key+".json")
	r.keep(atomicfile.WriteFile(name, pretty.Bytes(), 0o644))
}

// failure counts one failed HCS call and rewrites errors.json. A nil
// recording keeps nothing.
func (r *recording) failure(op string, code uint32, text string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := fmt.Sprintf("0x%08X", code)
	i := slices.IndexFunc(r.failures, func(f recordedFailure) bool { return f.Op == op && f.Code == c && f.Text == text })
	if i < 0 {
		r.failures = append(r.failures, recordedFailure{Op: op, Code: c, Text: text})
		i = len(r.failures) - 1
	}
	r.failures[i].Count++
	data, err := json.MarshalIndent(r.failures, "", "  ")
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(r.dir, "errors.json"), append(data, '\n'), 0o644)
	}
	r.keep(err)
}
