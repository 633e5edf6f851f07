package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Defaults of FolderOptions.
const (
	DefaultFolderDebounce = 150 * time.Millisecond
	DefaultFolderRescan   = 60 * time.Second
)

// ErrNotFolder is returned (wrapped) by NewFolderSource when the path exists
// but is not a directory. A missing or unreadable folder wraps
// fs.ErrNotExist or fs.ErrPermission instead.
var ErrNotFolder = errors.New("not a folder")

// FolderOptions configures a FolderSource. Zero values take the defaults.
type FolderOptions struct {
	// Dir is the folder of manifests, watched recursively.
	Dir string
	// Debounce is how long the folder must stay quiet after an event before
	// notify is called (default 150 ms).
	Debounce time.Duration
	// Settle replaces Debounce when the burst is one manifest that
	// appeared whole: a file renamed in (an atomic save, kubectl, a
	// deployment tool) or created empty, with no other event (default a
	// fifth of Debounce). A file written in place, or created and then
	// written, gives more than one event and waits the full Debounce.
	Settle time.Duration
	// Rescan is the interval of the full rescan that catches lost events
	// (default 60 s). It also bounds how often a vanished folder is looked
	// for (at most every second).
	Rescan time.Duration
	// Logger receives the source's logs; nil discards them.
	Logger *zap.Logger
}

// FolderSource is the desired set declared by the YAML manifests of one
// folder and its subfolders (DESIGN §5). Run watches the folder with
// fsnotify; Snapshot parses only the files whose content changed since the
// previous Snapshot. While Run watches every folder, Snapshot reads only the
// files its events named; it walks and stats the whole folder on the first
// Snapshot, after each periodic rescan, and after anything that may have
// lost events (a queue overflow, a watcher error, a folder that could not be
// watched, a folder created, moved or removed).
//
// Run and Snapshot may be called from different goroutines; Snapshot calls
// are serialised.
type FolderSource struct {
	path     string // absolute, as given: names the source
	dir      string // path with symbolic links resolved: what is walked and watched
	debounce time.Duration
	settle   time.Duration
	rescan   time.Duration
	log      *zap.Logger
	workers  int // parallel file loaders in Snapshot

	running atomic.Bool
	// pending is set while Run has seen changes it has not notified yet.
	pending atomic.Bool
	stats   folderCounters

	mu    sync.Mutex // guards cache, held for a whole Snapshot
	cache folderCache

	changesMu sync.Mutex // guards changes
	// changes is what Run's events tell the next Snapshot to look at.
	changes folderChanges
}

// FolderStats counts what a FolderSource did since it was created.
type FolderStats struct {
	// Scans is the number of Snapshot walks of the folder.
	Scans int64
	// Incremental is the number of Snapshots that looked only at the
	// files Run's events named, without walking the folder.
	Incremental int64
	// Reads is the number of files read and hashed because their size or
	// mtime changed (or their mtime was too recent to trust).
	Reads int64
	// Parses is the number of files parsed because their content changed.
	Parses int64
	// Events is the number of fsnotify events that concerned a manifest or
	// a folder (ignored names are not counted).
	Events int64
	// Notifies is the number of times Run called notify.
	Notifies int64
	// Rescans is the number of full rescans (periodic or after an overflow).
	Rescans int64
	// Overflows is the number of event queue overflows reported by fsnotify.
	Overflows int64
}

type folderCounters struct {
	scans, incremental, reads, parses, events, notifies, rescans, overflows atomic.Int64
}

// NewFolderSource checks that opts.Dir is a readable folder and returns a
// source for it. It does not start watching (see Run). A symbolic link to a
// folder is resolved once, here: repointing it later is not followed. A missing folder
// gives an error wrapping fs.ErrNotExist, an unreadable one fs.ErrPermission
// (or the OS error), a file ErrNotFolder.
func NewFolderSource(opts FolderOptions) (*FolderSource, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("folder source: %w: empty path", ErrNotFolder)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("folder source %s: %w", opts.Dir, err)
	}
	if err := checkFolder(dir); err != nil {
		return nil, fmt.Errorf("folder source: %w", err)
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("folder source: %w", err)
	}
	f := &FolderSource{
		path:     dir,
		dir:      resolved,
		debounce: opts.Debounce,
		settle:   opts.Settle,
		rescan:   opts.Rescan,
		log:      opts.Logger,
		workers:  runtime.GOMAXPROCS(0),
	}
	if f.debounce <= 0 {
		f.debounce = DefaultFolderDebounce
	}
	if f.settle <= 0 || f.settle > f.debounce {
		f.settle = f.debounce / 5
	}
	if f.rescan <= 0 {
		f.rescan = DefaultFolderRescan
	}
	if f.log == nil {
		f.log = zap.NewNop()
	}
	f.log = f.log.With(zap.String("source", f.String()))
	return f, nil
}

// checkFolder reports why dir cannot be used as the root of a folder
// source, or nil.
func checkFolder(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w", dir, ErrNotFolder)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	return nil
}

// String names the source in logs: "dir /abs/path".
func (f *FolderSource) String() string { return "dir " + f.path }

// Stats returns the source's counters. Safe for concurrent use.
func (f *FolderSource) Stats() FolderStats {
	c := &f.stats
	return FolderStats{
		Scans:       c.scans.Load(),
		Incremental: c.incremental.Load(),
		Reads:       c.reads.Load(),
		Parses:      c.parses.Load(),
		Events:      c.events.Load(),
		Notifies:    c.notifies.Load(),
		Rescans:     c.rescans.Load(),
		Overflows:   c.overflows.Load(),
	}
}
