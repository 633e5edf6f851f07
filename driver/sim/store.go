package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"go.uber.org/zap"
)

const (
	// lockRetry is how often a blocked caller polls for the file lock.
	lockRetry = 2 * time.Millisecond
	// minCompaction is the journal length (in entries) below which the
	// journal is never folded into the snapshot.
	minCompaction = 256
	// stateFileMode keeps the state private to the user: it holds the
	// containers' full specs.
	stateFileMode fs.FileMode = 0o600
)

// store is the state file, its journal and the in-memory copy of both.
//
// Every access holds sem (one caller of this store at a time) and then the
// flock (one process at a time, shared for reads). Under the lock, refresh
// re-reads only what changed since the last call: the snapshot when its
// identity (size, mtime, file) changed, else the journal from the offset
// last read. Mutations append one fsync'd line to the journal; the journal
// is folded into a new snapshot, written atomically, once it holds more
// than max(minCompaction, number of systems) entries.
type store struct {
	path        string
	journalPath string
	log         *zap.Logger
	lock        *flock.Flock
	sem         chan struct{}

	// What was read; valid only while holding sem.
	m        *model
	snapInfo fs.FileInfo // identity of the snapshot m was read from
	// header is the journal's first line for m.generation; offset is how
	// far the journal has been applied (always at a line end); entries is
	// how many entries follow the header. offset 0: no valid journal yet.
	header  []byte
	offset  int64
	entries int
	closed  bool
}

var errClosed = fmt.Errorf("emulated host: %w", os.ErrClosed)

func openStore(path string, log *zap.Logger) (*store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open emulated host: %w", err)
	}
	s := &store{
		path:        path,
		journalPath: path + ".journal",
		log:         log,
		lock:        flock.New(path+".lock", flock.SetPermissions(stateFileMode)),
		sem:         make(chan struct{}, 1),
	}
	return s, nil
}

// read runs fn on the current state under a shared lock. fn must not
// change the model.
func (s *store) read(ctx context.Context, fn func(m *model) error) error {
	return s.locked(ctx, false, func() error { return fn(s.m) })
}

// update runs fn on the current state under the exclusive lock; fn changes
// the state only through commit, which appends an entry to the journal and
// applies it to the model. fn may commit and still return an error (a
// consumed transient fault).
func (s *store) update(ctx context.Context, fn func(m *model, commit func(entry) error) error) error {
	return s.locked(ctx, true, func() error {
		if err := fn(s.m, s.commit); err != nil {
			return err
		}
		return s.compactIfDue()
	})
}

// initialize writes a new state when the state file does not exist.
func (s *store) initialize(ctx context.Context) (created bool, err error) {
	err = s.acquire(ctx, true, func() error {
		if _, err := os.Stat(s.path); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		created = true
		return s.writeSnapshot(newModel())
	})
	return created, err
}

func (s *store) locked(ctx context.Context, exclusive bool, fn func() error) error {
	return s.acquire(ctx, exclusive, func() error {
		if err := s.refresh(); err != nil {
			return fmt.Errorf("read emulated host state %s: %w", s.path, err)
		}
		return fn()
	})
}

// acquire takes sem and the file lock, honouring ctx while waiting for
// either, runs fn and releases both.
func (s *store) acquire(ctx context.Context, exclusive bool, fn func() error) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.sem }()
	if s.closed {
		return errClosed
	}
	try := s.lock.TryRLockContext
	if exclusive {
		try = s.lock.TryLockContext
	}
	ok, err := try(ctx, lockRetry)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("lock %s: %w", s.lock.Path(), err)
	}
	if !ok {
		return fmt.Errorf("lock %s: not acquired", s.lock.Path())
	}
	defer func() { _ = s.lock.Unlock() }()
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn()
}

func (s *store) close() error {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.lock.Close()
}

// refresh brings s.m up to date with the files.
func (s *store) refresh() error {
	info, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	if s.m == nil || !sameFile(info, s.snapInfo) {
		if err := s.loadSnapshot(); err != nil {
			return err
		}
	}
	return s.readJournal()
}

func sameFile(a, b fs.FileInfo) bool {
	return b != nil && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

func (s *store) loadSnapshot() error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	var snap snapshot
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	m, err := modelFromSnapshot(snap)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	s.m, s.snapInfo = m, info
	s.header, s.offset, s.entries = nil, 0, 0
	return nil
}

// readJournal applies the journal's complete lines after s.offset. A
// journal whose first line names another generation is stale (left by a
// crash between writing a snapshot and resetting the journal): everything
// in it is already in the snapshot. A last line without its newline is a
// torn write and is ignored.
func (s *store) readJournal() error {
	f, err := os.Open(s.journalPath)
	if errors.Is(err, fs.ErrNotExist) {
		if s.offset > 0 {
			return s.reload()
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if s.offset > 0 {
		// The header must still be the one read: if someone else compacted
		// and the snapshot's identity happened to repeat, this notices.
		got := make([]byte, len(s.header))
		if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, s.header) {
			return s.reload()
		}
	}
	data, err := io.ReadAll(io.NewSectionReader(f, s.offset, 1<<62))
	if err != nil {
		return err
	}
	for len(data) > 0 {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		if !complete {
			return nil
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("journal %s at byte %d: %w", s.journalPath, s.offset, err)
		}
		if s.offset == 0 {
			if e.Op != opBegin || e.Generation != s.m.generation {
				return nil // stale journal: nothing in it is news
			}
			s.header = append([]byte(nil), data[:len(line)+1]...)
		} else if err := s.m.apply(e); err != nil {
			return fmt.Errorf("journal %s at byte %d: %w", s.journalPath, s.offset, err)
		} else {
			s.entries++
		}
		s.offset += int64(len(line) + 1)
		data = rest
	}
	return nil
}

// reload forgets the in-memory copy and reads everything again.
func (s *store) reload() error {
	if err := s.loadSnapshot(); err != nil {
		return err
	}
	return s.readJournal()
}

// commit appends e to the journal (fsync'd) and applies it to the model.
func (s *store) commit(e entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	f, err := os.OpenFile(s.journalPath, os.O_RDWR|os.O_CREATE, stateFileMode)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if s.offset == 0 {
		// No journal for this generation yet (new, or stale): start one.
		header, err := json.Marshal(entry{Op: opBegin, Generation: s.m.generation})
		if err != nil {
			return err
		}
		s.header = append(header, '\n')
		line = append(bytes.Clone(s.header), line...)
	}
	// Cut a torn last line (or a stale journal) before appending.
	if err := f.Truncate(s.offset); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := f.WriteAt(line, s.offset); err != nil {
		_ = f.Truncate(s.offset)
		return fmt.Errorf("journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Truncate(s.offset)
		return fmt.Errorf("journal: %w", err)
	}
	s.offset += int64(len(line))
	s.entries++
	return s.m.apply(e)
}

// compactIfDue folds the journal into a new snapshot once it holds more
// than max(minCompaction, number of systems) entries, so a pass of N
// creates appends N lines and rewrites the snapshot O(1) times per
// max(minCompaction, N) of them.
func (s *store) compactIfDue() error {
	if s.entries <= max(minCompaction, len(s.m.systems)) {
		return nil
	}
	return s.compact()
}

func (s *store) compact() error {
	next := *s.m
	next.generation++
	if err := s.writeSnapshot(&next); err != nil {
		return err
	}
	s.log.Debug("compacted journal", zap.Int("entries", s.entries), zap.Int("systems", len(next.systems)), zap.Uint64("generation", next.generation))
	return nil
}

// writeSnapshot replaces the snapshot with m atomically and resets the
// journal to m's generation; m becomes the in-memory copy. A crash between
// the two leaves a journal of the previous generation, which readers
// recognise as stale.
func (s *store) writeSnapshot(m *model) error {
	data, err := json.MarshalIndent(m.snapshot(), "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := writeFileAtomic(s.path, data, stateFileMode); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	info, err := statByHandle(s.path)
	if err != nil {
		return err
	}
	header, err := json.Marshal(entry{Op: opBegin, Generation: m.generation})
	if err != nil {
		return err
	}
	header = append(header, '\n')
	if err := writeFileSynced(s.journalPath, header); err != nil {
		return fmt.Errorf("reset journal: %w", err)
	}
	s.m, s.snapInfo = m, info
	s.header, s.offset, s.entries = header, int64(len(header)), 0
	return nil
}

// statByHandle stats the file path names now. (On Windows, os.Stat reads
// the file's identity lazily, by path, which could be a later file by the
// time it is compared.)
func statByHandle(path string) (fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// writeFileSynced replaces path's content in place and fsyncs it.
func writeFileSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, stateFileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
