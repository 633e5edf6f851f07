package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
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

// ErrStateDamaged is the class of the errors about a state whose files do
// not make one consistent emulated host: a missing, truncated or edited
// state file or journal, or one of another host or generation. Such a
// state is refused, never read as an empty host, and nothing is written
// to it; the message names the file and says what to do.
var ErrStateDamaged = errors.New("emulated host state is damaged")

// store is the state file (the snapshot), its journal and the in-memory
// copy of both.
//
// The two files check each other. The snapshot carries the host's id (made
// once, when the state is created), its generation (one more per
// compaction) and the sequence number of the last journal entry folded
// into it. The journal's first line repeats the three; each entry carries
// the next sequence number; and the first line records how many bytes of
// the journal are committed, updated after each entry is fsync'd. So a
// missing file, a journal cut short, a line removed, or a file of another
// host or generation is refused with ErrStateDamaged, while every state a
// crash can leave opens (see TestCrashStates):
//
//   - creating: the journal is written first, then the snapshot; a journal
//     of generation 1 holding only its first line and no snapshot is a
//     creation cut short and is completed;
//   - appending: a last line without its newline is a torn write, ignored
//     and cut by the next append; a committed mark that lags the entries
//     (the crash came between the fsync and the mark) is allowed;
//   - compacting: the new snapshot replaces the old one (atomic rename),
//     then a new journal replaces the old one; a journal of the previous
//     generation that ends exactly at the snapshot's sequence number is
//     already folded in, and the next append replaces it.
//
// Every access holds sem (one caller of this store at a time) and then the
// flock (one process at a time, shared for reads). Under the lock, refresh
// re-reads only what changed since the last call: the snapshot when its
// identity (size, mtime, file) changed, else the journal from the offset
// last read. Mutations append one fsync'd line to the journal; once that
// line is fsync'd the mutation has happened, whatever follows; concurrent
// mutations share one append and fsync (see update). The journal is folded
// into a new snapshot, written atomically, once it holds more than
// minCompaction entries and more entries than systems or more bytes than
// the snapshot (see compactIfDue); a compaction that fails is logged and
// tried again at the next mutation.
type store struct {
	path        string
	journalPath string
	log         *zap.Logger
	lock        *flock.Flock
	sem         chan struct{}
	// writeAtomic replaces a file atomically (writeFileAtomic); tests make
	// it fail as a read-only folder or a full disk would.
	writeAtomic func(path string, data []byte, perm fs.FileMode) error

	// What was read; valid only while holding sem. m is nil when nothing
	// valid was read.
	m        *model
	snapInfo fs.FileInfo // identity of the snapshot m was read from
	// ident is the journal's first line up to its committed mark, once the
	// journal of m's generation has been read; offset is how far it has
	// been applied (always at a line end); entries is how many entries were
	// applied. stale is set while the journal is still the previous
	// generation's (folded into m); staleInfo is that journal once checked.
	ident     []byte
	offset    int64
	entries   int
	stale     bool
	staleInfo fs.FileInfo
	// journalInfo is the journal's identity when it was last read to its
	// end under the lock, while nothing has changed since (see
	// readUnchanged); nil otherwise.
	journalInfo fs.FileInfo
	closed      bool

	// pending are the entries committed to the model and not yet
	// appended to the journal (see flush); pendingEntries counts them.
	pending        []byte
	pendingEntries int

	// mu guards queue: the updates waiting for the next group (see update).
	mu    sync.Mutex
	queue []*pendingUpdate
	// appends counts the journal appends (one per group that committed).
	appends int

	compaction, committedMark upkeep
}

var errClosed = fmt.Errorf("emulated host: %w", os.ErrClosed)

// openStore prepares the store of the state at path, symlinks resolved so
// that every path to one state takes one lock.
func openStore(path string, log *zap.Logger) (*store, error) {
	real, err := ResolveStatePath(path)
	if err != nil {
		return nil, fmt.Errorf("open emulated host: %w", err)
	}
	s := &store{
		path:          real,
		journalPath:   real + ".journal",
		log:           log,
		lock:          flock.New(real+".lock", flock.SetPermissions(stateFileMode)),
		sem:           make(chan struct{}, 1),
		writeAtomic:   writeFileAtomic,
		compaction:    upkeep{what: "journal compaction"},
		committedMark: upkeep{what: "recording the committed length in the journal header"},
	}
	return s, nil
}

// readUnchanged runs fn on the state read last, without taking the file
// lock, when neither the state file nor the journal changed since it was
// read to its end under the lock (the same identity, size and mtime, as
// refresh compares them: the journal only grows between compactions, which
// replace it): two stats instead of the lock and the reads, for callers
// polling often (CheckHealth, List). ok is false, and fn did not run, when
// anything may have changed: the caller reads as usual then (see
// readCached). fn must not change the state the model describes (caches
// of it, as the systems' order, it may: sem is held).
func (s *store) readUnchanged(ctx context.Context, fn func(m *model) error) (ok bool, err error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.sem }()
	if s.closed || s.m == nil || s.stale || s.journalInfo == nil {
		return false, nil
	}
	if info, err := os.Stat(s.path); err != nil || !sameFile(info, s.snapInfo) {
		return false, nil
	}
	if info, err := os.Stat(s.journalPath); err != nil || !sameFile(info, s.journalInfo) {
		return false, nil
	}
	return true, fn(s.m)
}

// readCached runs fn on the current state: on the state read last when
// the files did not change since (see readUnchanged), else under a shared
// lock after reading what changed (see read).
func (s *store) readCached(ctx context.Context, fn func(m *model) error) error {
	ok, err := s.readUnchanged(ctx, fn)
	if !ok && err == nil {
		err = s.read(ctx, fn)
	}
	return err
}

// read runs fn on the current state under a shared lock. fn must not
// change the state the model describes.
func (s *store) read(ctx context.Context, fn func(m *model) error) error {
	return s.locked(ctx, false, func() error { return fn(s.m) })
}

// update runs fn on the current state under the exclusive lock; fn changes
// the state only through commit, which adds an entry to the journal and
// applies it to the model. fn may commit and still return an error (a
// consumed transient fault). update returns once fn's entries are fsync'd:
// from then on they stay committed whatever happens next (a compaction
// that fails afterwards is logged, not returned).
//
// Concurrent updates are committed as a group: while one caller holds the
// lock and fsyncs, the others queue, and the next caller to get the lock
// runs every queued fn in turn and appends all their entries with one write
// and one fsync. If that write fails, every fn of the group fails with its
// error and the model is read again from the files.
func (s *store) update(ctx context.Context, fn func(m *model, commit func(entry) error) error) error {
	p := &pendingUpdate{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.mu.Lock()
	s.queue = append(s.queue, p)
	s.mu.Unlock()
	for {
		select {
		case <-p.done:
			return p.err
		case <-ctx.Done():
			if s.withdraw(p) {
				return ctx.Err()
			}
			<-p.done // already taken into a group: its outcome is what counts
			return p.err
		case s.sem <- struct{}{}:
			select {
			case <-p.done: // run by the group before
				<-s.sem
				return p.err
			default:
				s.lead(p)
			}
		}
	}
}

// pendingUpdate is one caller's update, queued for the next group.
type pendingUpdate struct {
	ctx  context.Context
	fn   func(m *model, commit func(entry) error) error
	err  error
	done chan struct{} // closed once err is final
}

// withdraw takes p out of the queue; false when a group took it already.
func (s *store) withdraw(p *pendingUpdate) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.queue, p)
	if i < 0 {
		return false
	}
	s.queue = slices.Delete(s.queue, i, i+1)
	return true
}

// lead runs the queued updates, own among them, as one group, holding sem
// (taken by the caller, released here once their outcomes are final). When
// own's ctx ends while waiting for the file lock, only own fails and the
// others stay queued for the next leader.
func (s *store) lead(own *pendingUpdate) {
	s.mu.Lock()
	group := s.queue
	s.queue = nil
	s.mu.Unlock()
	var finished []*pendingUpdate
	defer func() {
		for _, p := range finished {
			close(p.done)
		}
		<-s.sem
	}()
	err := s.lockFile(own.ctx, true, func() error {
		if err := s.refreshLocked(true); err != nil {
			return err
		}
		s.runGroup(group)
		return nil
	})
	if err != nil && !s.closed && own.ctx.Err() != nil {
		// The leader gave up waiting for the lock: the others have not run.
		own.err, finished = err, []*pendingUpdate{own}
		s.mu.Lock()
		s.queue = append(slices.DeleteFunc(group, func(p *pendingUpdate) bool { return p == own }), s.queue...)
		s.mu.Unlock()
		return
	}
	for _, p := range group {
		if err != nil {
			p.err = err
		}
	}
	finished = group
}

// runGroup runs the group's updates in turn on the model, then appends
// their entries to the journal with one write and one fsync.
func (s *store) runGroup(group []*pendingUpdate) {
	for _, p := range group {
		if p.err = p.ctx.Err(); p.err == nil {
			p.err = p.fn(s.m, s.commit)
		}
	}
	if err := s.flush(); err != nil {
		for _, p := range group {
			p.err = err
		}
		return
	}
	s.compactIfDue()
}

// initialize writes a new state when none exists, then reads the state.
func (s *store) initialize(ctx context.Context) (created bool, err error) {
	err = s.acquire(ctx, true, func() error {
		var err error
		if created, err = s.createIfNew(); err != nil {
			return fmt.Errorf("create emulated host state %s: %w", s.path, err)
		}
		return s.refreshLocked(true)
	})
	return created, err
}

func (s *store) locked(ctx context.Context, exclusive bool, fn func() error) error {
	return s.acquire(ctx, exclusive, func() error {
		if err := s.refreshLocked(exclusive); err != nil {
			return err
		}
		return fn()
	})
}

// refreshLocked brings the in-memory copy up to date; holding the
// exclusive lock, it also upgrades a state of the format before host ids
// (read as it is) to the current format, by a compaction.
func (s *store) refreshLocked(exclusive bool) error {
	if err := s.refresh(); err != nil {
		s.m = nil // read everything again next time
		return err
	}
	if !exclusive || s.m.hostID != "" {
		return nil
	}
	if err := s.compact(); err != nil {
		s.m = nil
		return fmt.Errorf("upgrade emulated host state %s: %w", s.path, err)
	}
	s.log.Info("upgraded the emulated host state to the checked format", zap.String("path", s.path), zap.String("hostID", s.m.hostID))
	return nil
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
	return s.lockFile(ctx, exclusive, fn)
}

// lockFile takes the file lock, honouring ctx while waiting for it, runs
// fn and releases it. The caller holds sem.
func (s *store) lockFile(ctx context.Context, exclusive bool, fn func() error) error {
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

// damaged is the error for a state whose files do not make one state;
// file is the one at fault and what says what is wrong with it.
func (s *store) damaged(file, what string, args ...any) error {
	return fmt.Errorf("%w: %s %s; nothing was changed: restore it from a backup, or remove %s and %s to start a new, empty host",
		ErrStateDamaged, file, fmt.Sprintf(what, args...), s.path, s.journalPath)
}

// createIfNew writes a new state when there is none: neither the state
// file nor its journal, or only the journal that a crash during creation
// left (generation 1, nothing after its first line). The journal is
// written first, so a snapshot never exists without its journal.
func (s *store) createIfNew() (bool, error) {
	if _, err := os.Stat(s.path); !errors.Is(err, fs.ErrNotExist) {
		return false, nil // there, or unreadable: refresh says which
	}
	data, err := os.ReadFile(s.journalPath)
	var hostID string
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	default:
		h, _, n, err := parseHeader(data)
		if err != nil || h.HostID == "" || h.Generation != 1 || h.Seq != 0 || n != len(data) {
			return false, nil // a journal with a past: refresh refuses the missing state file
		}
		hostID = h.HostID
	}
	m := newModel(hostID)
	if hostID == "" {
		if m.hostID, err = newHostID(); err != nil {
			return false, err
		}
		if err := s.writeAtomic(s.journalPath, journalHeader(m), stateFileMode); err != nil {
			return false, err
		}
	}
	data, err = m.snapshotJSON()
	if err != nil {
		return false, err
	}
	if err := s.writeAtomic(s.path, data, stateFileMode); err != nil {
		return false, err
	}
	s.m = nil
	return true, nil
}

func newHostID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("host id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// refresh brings s.m up to date with the files.
func (s *store) refresh() error {
	s.journalInfo = nil
	info, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, jerr := os.Stat(s.journalPath); jerr == nil {
			return s.damaged(s.path, "is missing while its journal %s is there", s.journalPath)
		}
		return s.damaged(s.path, "and its journal are missing: the state was deleted while in use")
	}
	if err != nil {
		return err
	}
	if s.m == nil || !sameFile(info, s.snapInfo) {
		return s.reload()
	}
	return s.readJournal()
}

func sameFile(a, b fs.FileInfo) bool {
	return b != nil && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

// reload forgets the in-memory copy and reads everything again.
func (s *store) reload() error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	data, err := readFrom(f, 0, info.Size())
	if err != nil {
		return err
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return s.damaged(s.path, "is not a complete state (%v): it was truncated or edited", err)
	}
	m, err := modelFromSnapshot(snap)
	if err != nil {
		return s.damaged(s.path, "is not a valid state: %v", err)
	}
	s.m, s.snapInfo = m, info
	s.ident, s.offset, s.entries, s.stale, s.staleInfo = nil, 0, 0, false, nil
	return s.readJournal()
}

// readJournal checks the journal against the snapshot and applies the
// complete lines after s.offset.
func (s *store) readJournal() error {
	f, err := os.Open(s.journalPath)
	if errors.Is(err, fs.ErrNotExist) {
		return s.damaged(s.journalPath, "is missing; the state file %s (%s, generation %d) needs it", s.path, orLegacy(s.m.hostID), s.m.generation)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if s.stale && sameFile(info, s.staleInfo) {
		return nil
	}
	head, err := readHead(f)
	if err != nil {
		return err
	}
	h, ident, n, err := parseHeader(head)
	if err != nil {
		return s.damaged(s.journalPath, "has no valid first line (%v): it was truncated or overwritten", err)
	}
	if s.ident != nil {
		if !bytes.Equal(ident, s.ident) {
			// Replaced under a snapshot whose identity repeated: start over.
			return s.reload()
		}
		if info.Size() < s.offset {
			return s.damaged(s.journalPath, "is %d bytes long but %d bytes of it were read before: it was truncated or edited", info.Size(), s.offset)
		}
		return s.applyJournal(f, h)
	}
	m := s.m
	switch {
	case h.HostID != m.hostID && !(h.HostID == "" && h.Generation+1 == m.generation && m.seq == 0):
		// (A journal without host id that the snapshot folded in is the
		// crash window of the upgrade from that format.)
		return s.damaged(s.journalPath, "belongs to another emulated host (%s) than the state file %s (%s)", orLegacy(h.HostID), s.path, orLegacy(m.hostID))
	case h.Generation == m.generation:
		if h.Seq != m.seq {
			return s.damaged(s.journalPath, "continues after entry %d but the state file %s ends at entry %d", h.Seq, s.path, m.seq)
		}
		s.ident, s.offset, s.entries = ident, int64(n), 0
		return s.applyJournal(f, h)
	case h.Generation+1 == m.generation:
		return s.checkStale(f, info, h, int64(n))
	case h.Generation > m.generation:
		return s.damaged(s.journalPath, "is of generation %d, newer than the state file %s (generation %d): the state file is an older copy, or the journal was edited", h.Generation, s.path, m.generation)
	default:
		return s.damaged(s.journalPath, "is of generation %d, older than the state file %s (generation %d) can follow: the journal is an older copy, or was edited", h.Generation, s.path, m.generation)
	}
}

func orLegacy(hostID string) string {
	if hostID == "" {
		return "without a host id"
	}
	return "host " + hostID
}

// checkStale accepts the previous generation's journal, left by a crash
// between writing a snapshot and replacing the journal, when it ends where
// the snapshot does: everything in it is already in the snapshot.
func (s *store) checkStale(f *os.File, info fs.FileInfo, h header, at int64) error {
	data, err := readFrom(f, at, info.Size())
	if err != nil {
		return err
	}
	_, last, err := s.scanEntries(data, at, h, nil)
	if err != nil {
		return err
	}
	if h.HostID != "" && last != s.m.seq {
		return s.damaged(s.journalPath, "is of the previous generation %d and ends at entry %d, but the state file %s folded in entries up to %d: its generation was edited, or it is an older copy",
			h.Generation, last, s.path, s.m.seq)
	}
	s.stale, s.staleInfo = true, info
	return nil
}

// applyJournal applies the complete lines after s.offset and checks that
// the journal holds everything its header says was committed.
func (s *store) applyJournal(f *os.File, h header) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	data, err := readFrom(f, s.offset, info.Size())
	if err != nil {
		return err
	}
	end, _, err := s.scanEntries(data, s.offset, h, func(e entry) error {
		if err := s.m.apply(e); err != nil {
			return err
		}
		s.entries++
		return nil
	})
	s.offset = end
	if err != nil {
		return err
	}
	if h.Committed > s.offset {
		return s.damaged(s.journalPath, "ends at byte %d but %d bytes of it were committed: it was truncated", s.offset, h.Committed)
	}
	if s.offset == info.Size() {
		s.journalInfo = info
	}
	return nil
}

// scanEntries parses the complete lines of data, which starts at byte at
// of the journal whose header is h, checks that their sequence numbers
// follow on from the model's (from h.Seq for a stale journal), and passes
// each to fn when fn is not nil. A last line without its newline is a torn
// write and is left alone. It returns where the last complete line ends
// and the last sequence number read.
func (s *store) scanEntries(data []byte, at int64, h header, fn func(entry) error) (end int64, last uint64, err error) {
	last = h.Seq
	if fn != nil {
		last = s.m.seq
	}
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, data[:i])
		data = data[i+1:]
	}
	entries := make([]entry, len(lines))
	errs := make([]error, len(lines))
	_ = parallel(len(lines), minParallel, func(i int) error {
		entries[i], errs[i] = decodeEntry(lines[i])
		return nil
	})
	for i, e := range entries {
		if errs[i] != nil {
			return at, last, s.damaged(s.journalPath, "has an unreadable line at byte %d (%v): it was edited or overwritten", at, errs[i])
		}
		if h.HostID != "" && e.Seq != last+1 {
			return at, last, s.damaged(s.journalPath, "has entry %d at byte %d where entry %d belongs: a line was removed, repeated or edited", e.Seq, at, last+1)
		}
		if fn != nil {
			if err := fn(e); err != nil {
				return at, last, s.damaged(s.journalPath, "has an invalid entry at byte %d: %v", at, err)
			}
		}
		last = e.Seq
		at += int64(len(lines[i]) + 1)
	}
	return at, last, nil
}

// commit validates e, applies it to the model and adds it to the entries
// flush appends to the journal. The caller holds the exclusive lock.
func (s *store) commit(e entry) error {
	if err := e.validate(); err != nil {
		return err
	}
	if s.stale {
		// The journal is the previous generation's: finish the compaction
		// that a crash (or a failure) interrupted.
		if err := s.resetJournal(); err != nil {
			return err
		}
	}
	e.Seq = s.m.seq + 1
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	s.pending = append(append(s.pending, line...), '\n')
	s.pendingEntries++
	_ = s.m.apply(e) // validated above: cannot fail
	return nil
}

// flush appends the entries commit added since the last flush to the
// journal with one write and one fsync; once the fsync returns they are
// committed. When the append fails, the journal is cut back and the model,
// which holds the entries already, is dropped, to be read again.
func (s *store) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	lines, n := s.pending, s.pendingEntries
	s.pending, s.pendingEntries = s.pending[:0], 0
	if err := s.appendJournal(lines); err != nil {
		s.m = nil
		return fmt.Errorf("journal: %w", err)
	}
	s.entries += n
	return nil
}

// appendJournal writes lines at s.offset, cutting a torn last line first,
// fsyncs them and records the new committed length in the header.
func (s *store) appendJournal(lines []byte) error {
	s.journalInfo = nil
	f, err := os.OpenFile(s.journalPath, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(s.offset); err != nil {
		return err
	}
	if _, err := f.WriteAt(lines, s.offset); err != nil {
		_ = f.Truncate(s.offset)
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Truncate(s.offset)
		return err
	}
	s.offset += int64(len(lines))
	s.appends++
	// Record how far the journal is committed, so that a later truncation
	// is noticed. Not fsync'd: the mark is written after the entries are on
	// disk, so it never runs ahead of them; a mark lost in a crash only
	// lags, which readers allow, and the next append's fsync carries it.
	_, err = f.WriteAt(committedMark(s.offset), int64(len(s.ident)))
	s.committedMark.report(s.log, err, zap.String("journal", s.journalPath))
	return nil
}

// compactIfDue folds the journal into a new snapshot once it holds more
// than minCompaction entries and either more entries than there are
// systems (changes to the same systems) or more bytes than the snapshot
// (new systems): so a pass of N creates or changes appends N lines and
// rewrites the snapshot O(1) times per max(minCompaction, N) of them, and a
// reader never reads a journal much longer than the state it describes. A
// failure is logged when it starts and when it stops, and the compaction is
// tried again at the next update.
func (s *store) compactIfDue() {
	if s.m == nil || s.entries <= minCompaction {
		return
	}
	if s.entries <= len(s.m.systems) && (s.snapInfo == nil || s.offset <= s.snapInfo.Size()) {
		return
	}
	err := s.compact()
	s.compaction.report(s.log, err, zap.String("path", s.path), zap.Int("entries", s.entries))
}

// compact writes the model as the next generation's snapshot (giving a
// state of the format before host ids its host id) and starts that
// generation's journal. A failure to write the snapshot leaves everything
// as it was; a failure to replace the journal after it leaves the previous
// generation's journal, which the next commit replaces.
func (s *store) compact() error {
	next := *s.m
	next.generation++
	if next.hostID == "" {
		id, err := newHostID()
		if err != nil {
			return err
		}
		next.hostID = id
	}
	data, err := next.snapshotJSON()
	if err != nil {
		return err
	}
	if err := s.writeAtomic(s.path, data, stateFileMode); err != nil {
		return fmt.Errorf("write snapshot %s: %w", s.path, err)
	}
	info, err := statByHandle(s.path)
	if err != nil {
		s.m = nil
		return err
	}
	entries := s.entries
	s.m, s.snapInfo = &next, info
	s.ident, s.offset, s.entries, s.stale, s.staleInfo = nil, 0, 0, true, nil
	if err := s.resetJournal(); err != nil {
		return err
	}
	s.log.Debug("compacted journal", zap.Int("entries", entries), zap.Int("systems", len(next.systems)), zap.Uint64("generation", next.generation))
	return nil
}

// resetJournal replaces the journal, atomically, by one of s.m's
// generation holding only its first line.
func (s *store) resetJournal() error {
	s.journalInfo = nil
	line := journalHeader(s.m)
	if err := s.writeAtomic(s.journalPath, line, stateFileMode); err != nil {
		return fmt.Errorf("start journal %s: %w", s.journalPath, err)
	}
	s.ident, s.offset, s.entries, s.stale, s.staleInfo = headerIdent(s.m), int64(len(line)), 0, false, nil
	return nil
}

// readFrom reads f from byte at to its end, in one buffer of the size f
// had (size) grown as needed.
func readFrom(f *os.File, at, size int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, max(size-at, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(io.NewSectionReader(f, at, 1<<62))
	return buf.Bytes(), err
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

// upkeep is housekeeping that may fail without failing the operation that
// ran it; a failure is logged when it starts and when it stops, not on
// every try.
type upkeep struct {
	what    string
	failing bool
}

func (u *upkeep) report(log *zap.Logger, err error, fields ...zap.Field) {
	switch {
	case err != nil && !u.failing:
		u.failing = true
		log.Warn(u.what+" failed; committed changes are kept, and it is tried again at the next change", append(fields, zap.Error(err))...)
	case err == nil && u.failing:
		u.failing = false
		log.Info(u.what+" works again", fields...)
	}
}
