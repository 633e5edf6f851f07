package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/spec"
)

// racyWindow is how long after a file's mtime its size and mtime stop being
// trusted alone: a write within the same timestamp tick as the previous one
// (coarse kernel clocks, FAT's 2 s, clock skew on shares) can leave both
// unchanged, so a file read less than racyWindow after its mtime is read
// and hashed again on the next Snapshot (as git does with "racily clean"
// index entries). It costs a read, never a parse, of recently written files.
const racyWindow = 2 * time.Second

// folderCache is what Snapshot keeps between calls.
type folderCache struct {
	files map[string]*folderFile // by path relative to the folder, slash-separated
	// rels are the keys of files, sorted: the order of the desired set.
	rels     []string
	lastGood LastGood
	// complete is true when files describe the whole folder as of the last
	// Snapshot (false before the first one and while the folder cannot be
	// read): only then may a Snapshot look at changed files alone.
	complete bool
	// snap is the desired set of the last Snapshot that saw the whole
	// folder; its containers are served while the folder cannot be read.
	snap spec.Set
	// holding is the reason of the hold in force, "" when none (logged on
	// change only).
	holding string
}

// folderFile is one manifest file as last seen.
type folderFile struct {
	size  int64
	mtime time.Time
	// ident is what else the stat says about the file's identity (inode,
	// change time) where the system tells it.
	ident fileIdent
	// checked is when size and mtime were last matched against content
	// (taken before the stat that preceded the read).
	checked    time.Time
	hash       [sha256.Size]byte
	containers []spec.Container
	problems   []spec.Problem
	// unreadable marks an entry made from a read failure: it is never
	// reused.
	unreadable bool
}

// trusted reports whether fi still describes the content this entry was
// made from, without reading the file.
func (e *folderFile) trusted(fi fs.FileInfo) bool {
	return !e.unreadable && fi.Size() == e.size && fi.ModTime().Equal(e.mtime) && identOf(fi) == e.ident &&
		e.checked.Sub(e.mtime) >= racyWindow
}

// sameContent reports whether e, the new entry of a file, gives what old
// gave: no parse happened, so its containers and problems are old's.
func (e *folderFile) sameContent(old *folderFile) bool {
	return e != nil && old != nil && !e.unreadable && !old.unreadable && e.hash == old.hash
}

// Snapshot returns the folder's full desired set. While Run watches every
// folder, it reads only the files that Run's events named since the last
// Snapshot; otherwise (no Run, the first Snapshot, after a periodic rescan
// or anything that may have lost events) it walks the folder. Files whose
// size, mtime and identity are unchanged are not read; files whose content
// hash is unchanged are not parsed; the rest are read and parsed in
// parallel. After lost events (a queue overflow, a watcher error) every
// file is read and hashed again. A file that is invalid keeps the
// containers of its last valid version (see LastGood) and its problems are
// in Errors, with File relative to the folder (slash-separated). Names
// must be unique across the folder.
//
// While the folder cannot be read (it vanished, or a subfolder cannot be
// listed), Snapshot returns the containers of the last complete Snapshot
// with HoldRemovals set; so it does, briefly, while Run has seen changes
// it has not yet notified (an editor may be half-way through a save).
//
// Snapshot blocks for the walk; concurrent calls are serialised. It returns
// an error only when ctx is done. Callers must not modify the returned
// containers.
func (f *FolderSource) Snapshot(ctx context.Context) (spec.Set, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return spec.Set{}, fmt.Errorf("snapshot %s: %w", f, err)
	}
	ch := f.takeChanges()
	var (
		snap spec.Set
		err  error
	)
	if ch.watching && !ch.full && f.cache.complete {
		snap, err = f.snapshotChanged(ctx, ch.files)
	} else {
		snap, err = f.snapshotAll(ctx, ch.reread)
	}
	if err != nil {
		f.putBack(ch)
		return spec.Set{}, fmt.Errorf("snapshot %s: %w", f, err)
	}
	if f.pending.Load() {
		snap.HoldRemovals = true
		snap.HoldReason = fmt.Sprintf("folder %s is changing, removals wait until it has been quiet for %s", f.path, f.debounce)
	}
	return snap, nil
}

// snapshotAll walks the folder and brings every file up to date (reread:
// reads every file whatever its stat says).
func (f *FolderSource) snapshotAll(ctx context.Context, reread bool) (spec.Set, error) {
	f.stats.scans.Add(1)
	paths, err := spec.ManifestFiles(f.dir)
	if err != nil {
		reason := fmt.Sprintf("folder %s cannot be read, keeping its last good containers and holding every removal: %v", f.path, err)
		f.setHold(reason)
		f.cache.complete = false
		return spec.Set{
			Containers:   slices.Clone(f.cache.snap.Containers),
			HoldRemovals: true,
			HoldReason:   reason,
		}, nil
	}
	rels := make([]string, len(paths))
	for i, p := range paths {
		if rels[i], err = f.relative(p); err != nil {
			return spec.Set{}, err
		}
	}
	slices.Sort(rels) // relative paths sort as the walk did; kept sorted for the incremental path

	loaded, err := f.loadLogged(ctx, "folder scanned", rels, reread)
	if err != nil {
		return spec.Set{}, err
	}
	files := make(map[string]*folderFile, len(rels))
	kept := rels[:0]
	fresh := !f.cache.complete
	for i, rel := range rels {
		if e := loaded[i]; e != nil { // nil: gone between the walk and the stat
			files[rel] = e
			kept = append(kept, rel)
			fresh = fresh || e != f.cache.files[rel] && !e.sameContent(f.cache.files[rel])
		}
	}
	fresh = fresh || !slices.Equal(kept, f.cache.rels)
	for _, rel := range f.cache.lastGood.Files() {
		if _, ok := files[rel]; !ok {
			f.cache.lastGood.Forget(rel)
		}
	}
	f.cache.files, f.cache.rels = files, kept
	f.cache.complete = true
	f.setHold("")
	if !fresh {
		return f.served(), nil
	}
	return f.assemble(), nil
}

// snapshotChanged brings the files events named up to date, each read
// again (an event says it changed, whatever its stat says), and assembles
// the desired set again only if one of them gave something new.
func (f *FolderSource) snapshotChanged(ctx context.Context, changed map[string]struct{}) (spec.Set, error) {
	f.stats.incremental.Add(1)
	rels := slices.Sorted(maps.Keys(changed))
	loaded, err := f.loadLogged(ctx, "changed files read", rels, true)
	if err != nil {
		return spec.Set{}, err
	}
	fresh := false
	for i, rel := range rels {
		e, old := loaded[i], f.cache.files[rel]
		fresh = fresh || !e.sameContent(old) && (e != nil || old != nil)
		at, listed := slices.BinarySearch(f.cache.rels, rel)
		switch {
		case e != nil && !listed:
			f.cache.rels = slices.Insert(f.cache.rels, at, rel)
		case e == nil && listed:
			f.cache.rels = slices.Delete(f.cache.rels, at, at+1)
			f.cache.lastGood.Forget(rel)
		}
		if e != nil {
			f.cache.files[rel] = e
		} else {
			delete(f.cache.files, rel)
		}
	}
	if !fresh {
		return f.served(), nil
	}
	return f.assemble(), nil
}

// loadLogged runs loadFiles and logs what it read and parsed.
func (f *FolderSource) loadLogged(ctx context.Context, msg string, rels []string, reread bool) ([]*folderFile, error) {
	start, reads, parses := time.Now(), f.stats.reads.Load(), f.stats.parses.Load()
	loaded, err := f.loadFiles(ctx, rels, f.cache.files, reread)
	if err != nil {
		return nil, err
	}
	f.log.Debug(msg, zap.Int("files", len(rels)),
		zap.Int64("read", f.stats.reads.Load()-reads), zap.Int64("parsed", f.stats.parses.Load()-parses),
		zap.Duration("duration", time.Since(start)))
	return loaded, nil
}

// assemble builds the desired set from the cached files, in path order,
// and keeps it as the last complete set.
//
// The set holds the only copy of the containers: each file's entry, and
// its last good containers, are then given their place in the set's
// array instead of the array they were parsed into, which (like the
// previous set's array) becomes garbage. A spec.Container is some 700
// bytes: at 10,000 containers a second copy would be 7 MB.
func (f *FolderSource) assemble() spec.Set {
	var (
		snap spec.Set
		// sets[i] are the containers of f.cache.rels[i] in the set.
		sets = make([][]spec.Container, len(f.cache.rels))
		n    = 0
	)
	for i, rel := range f.cache.rels {
		e := f.cache.files[rel]
		sets[i] = f.cache.lastGood.Update(rel, e.containers, e.problems)
		n += len(sets[i])
	}
	// Sized at once (grown by appends, the array of 10,000 containers
	// would be allocated some five times over: 25 MB of garbage), so it
	// never moves and each file's part of it can be handed out at once.
	all := make([]spec.Container, 0, n)
	for i, rel := range f.cache.rels {
		e, start := f.cache.files[rel], len(all)
		all = append(all, sets[i]...)
		in := all[start:len(all):len(all)] // full: an append never writes into the next file's
		if len(e.problems) == 0 {
			e.containers = in // what Update took from it, copied
		}
		f.cache.lastGood.moved(rel, in)
		errs, warns := spec.SplitProblems(e.problems)
		snap.Errors = append(snap.Errors, errs...)
		snap.Warnings = append(snap.Warnings, warns...)
	}
	unique, dups := spec.CheckUnique(all)
	snap.Containers = unique
	snap.Errors = append(snap.Errors, dups...)
	f.cache.snap = snap
	return f.served()
}

// served is the last complete set as handed out: its slices clipped, so
// that a caller's append never writes into the cache.
func (f *FolderSource) served() spec.Set {
	s := f.cache.snap
	return spec.Set{
		Containers: slices.Clip(s.Containers),
		Errors:     slices.Clip(s.Errors),
		Warnings:   slices.Clip(s.Warnings),
	}
}

// setHold logs a change of hold reason once.
func (f *FolderSource) setHold(reason string) {
	if reason == f.cache.holding {
		return
	}
	switch {
	case reason != "" && f.cache.holding == "":
		f.log.Warn("holding removals", zap.String("reason", reason))
	case reason == "":
		f.log.Info("folder readable again, removals no longer held")
	}
	f.cache.holding = reason
}

// relative turns a path from spec.ManifestFiles into the slash-separated
// path relative to the folder.
func (f *FolderSource) relative(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return filepath.ToSlash(filepath.Clean(p)), nil
	}
	rel, err := filepath.Rel(f.dir, p)
	if err != nil {
		return "", fmt.Errorf("manifest %s outside the folder: %w", p, err)
	}
	return filepath.ToSlash(rel), nil
}

// loadFiles brings each file up to date against its previous entry, in
// parallel across f.workers goroutines (reread: reads each one whatever
// its stat says). A nil result means the file is gone. It blocks until
// every worker has returned.
func (f *FolderSource) loadFiles(ctx context.Context, rels []string, prev map[string]*folderFile, reread bool) ([]*folderFile, error) {
	out := make([]*folderFile, len(rels))
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(f.workers, len(rels)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(rels) {
					return
				}
				out[i] = f.loadFile(rels[i], prev[rels[i]], reread)
			}
		})
	}
	wg.Wait()
	return out, ctx.Err()
}

// loadFile returns the entry for one file: old itself when its size,
// mtime and identity are unchanged and trusted (unless reread), old's
// containers with a new stat when its content hash is unchanged, else a
// parse of the bytes just hashed. nil when the file is gone. A file never
// seen before, or reread, is not stat'ed apart from its read.
func (f *FolderSource) loadFile(rel string, old *folderFile, reread bool) *folderFile {
	path := filepath.Join(f.dir, filepath.FromSlash(rel))
	checked := time.Now()
	if old != nil && !reread {
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return unreadableFile(rel, err)
		case old.trusted(fi):
			return old
		}
	}

	f.stats.reads.Add(1)
	fi, data, err := spec.ReadManifest(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return unreadableFile(rel, err)
	}
	e := &folderFile{size: fi.Size(), mtime: fi.ModTime(), ident: identOf(fi), checked: checked, hash: sha256.Sum256(data)}
	if e.sameContent(old) {
		e.containers, e.problems = old.containers, old.problems
		return e
	}

	f.stats.parses.Add(1)
	e.containers, e.problems = spec.Parse(bytes.NewReader(data), rel)
	return e
}

// unreadableFile is the entry of a file that cannot be read, or that is not
// a regular file: an error, and no containers of its own (LastGood keeps
// the previous ones).
func unreadableFile(rel string, err error) *folderFile {
	return &folderFile{
		unreadable: true,
		problems:   []spec.Problem{spec.ReadProblem(rel, err)},
	}
}
