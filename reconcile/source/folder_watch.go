package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/errclass"
	"github.com/reconciler/reconciler/spec"
)

// maxDebounces bounds how long a steady stream of events can put notify
// off: at most this many Debounce periods after the first unnotified event.
const maxDebounces = 10

// maxRootPoll is the longest interval at which a vanished folder is looked
// for (shorter when Rescan is shorter).
const maxRootPoll = time.Second

// Run watches the folder and its subfolders until ctx is done, calling
// notify once when ready, once after each burst of changes to manifests or
// folders has been quiet for Debounce (or has lasted ten times Debounce;
// a burst that is one manifest renamed in waits Settle only),
// at once after an event queue overflow, and after every periodic rescan.
// Ignored names (dotfiles, editor leftovers) and files that are not
// manifests never trigger it. Subfolders created or moved in are watched
// as they appear. A folder that vanishes is looked for again every second
// (or Rescan, if shorter), and notify is called when it is back.
//
// notify is called from Run's goroutine and must not block for long. Run
// blocks; it returns nil when ctx is done, after the watcher's goroutine
// has ended, and an error only when watching cannot start (no inotify
// instance left) or when Run is already running.
func (f *FolderSource) Run(ctx context.Context, notify func()) error {
	if !f.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run %s: already running", f)
	}
	defer f.running.Store(false)
	defer f.pending.Store(false)
	defer f.setWatching(false)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("run %s: start watcher: %w", f, err)
	}
	fw := &folderWatch{
		f:      f,
		w:      w,
		notify: notify,
		dirs:   make(map[string]struct{}),
		failed: make(map[string]string),
		timer:  time.NewTimer(time.Hour),
	}
	fw.timer.Stop()
	defer fw.timer.Stop()
	err = fw.loop(ctx)
	if cerr := w.Close(); cerr != nil && err == nil { // Close waits for fsnotify's goroutine
		err = fmt.Errorf("run %s: close watcher: %w", f, cerr)
	}
	return err
}

// folderWatch is the state of one Run; only Run's goroutine touches it.
type folderWatch struct {
	f      *FolderSource
	w      *fsnotify.Watcher
	notify func()

	dirs   map[string]struct{} // watched folders, absolute
	failed map[string]string   // folders that could not be watched → class of the error logged
	poll   *time.Ticker        // while the root is gone: look for it

	timer *time.Timer
	armed bool      // a notify is due when timer fires
	first time.Time // first event since the last notify
	whole bool      // the burst is one manifest created: it waits Settle
}

func (fw *folderWatch) loop(ctx context.Context) error {
	f := fw.f
	if fw.sync() {
		f.log.Info("watching folder", zap.String("resolved", f.dir), zap.Int("folders", len(fw.dirs)),
			zap.Duration("debounce", f.debounce), zap.Duration("settle", f.settle), zap.Duration("rescan", f.rescan))
	} else {
		fw.loseRoot()
	}
	fw.fire()

	rescan := time.NewTicker(f.rescan)
	defer rescan.Stop()
	defer fw.foundRoot()

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.w.Events:
			if !ok {
				return fmt.Errorf("run %s: watcher closed", f)
			}
			if fw.handle(ev) {
				f.stats.events.Add(1)
				fw.arm(ev.Op == fsnotify.Create && spec.IsManifest(filepath.Base(ev.Name)))
			}
		case err, ok := <-fw.w.Errors:
			if !ok {
				return fmt.Errorf("run %s: watcher closed", f)
			}
			// Events may have been lost: the next Snapshot reads every
			// file again.
			f.markAll(true)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				f.stats.overflows.Add(1)
				f.log.Warn("event queue overflowed, rescanning the whole folder")
			} else {
				f.log.Warn("watcher error, rescanning the whole folder", zap.Error(err))
			}
			fw.rescan()
		case <-fw.timer.C:
			fw.fire()
		case <-rescan.C:
			f.log.Debug("periodic rescan")
			fw.rescan()
		case <-fw.pollC():
			if fw.sync() {
				fw.foundRoot()
				f.log.Info("folder is back, watching it again")
				fw.fire()
			}
		}
	}
}

// arm (re)starts the debounce timer after a relevant event; created
// reports an event that is only the creation of a manifest file. A burst
// of that one event waits Settle, any other burst Debounce after its last
// event.
func (fw *folderWatch) arm(created bool) {
	now := time.Now()
	if !fw.armed {
		fw.armed = true
		fw.first = now
		fw.whole = created
		fw.f.pending.Store(true)
	} else {
		fw.whole = false
	}
	wait := fw.f.debounce
	if fw.whole {
		wait = fw.f.settle
	}
	if left := fw.first.Add(maxDebounces * fw.f.debounce).Sub(now); left < wait {
		wait = max(left, 0)
	}
	fw.timer.Reset(wait)
}

// fire calls notify now and forgets any pending debounce.
func (fw *folderWatch) fire() {
	fw.armed = false
	fw.timer.Stop()
	fw.f.pending.Store(false)
	fw.f.stats.notifies.Add(1)
	fw.notify()
}

// rescan re-synchronises the watches with the folder tree and notifies at
// once, so that the next Snapshot walks and stats the whole folder.
func (fw *folderWatch) rescan() {
	fw.f.stats.rescans.Add(1)
	fw.f.markAll(false)
	if fw.poll == nil && !fw.sync() {
		fw.loseRoot()
	}
	fw.fire()
}

// handle updates the watches for one event, records what the next
// Snapshot must look at, and reports whether it may have changed the
// desired set. An event about a manifest file names that file; one about
// a folder (it appeared, went, or changed mode) asks for a full walk.
func (fw *folderWatch) handle(ev fsnotify.Event) bool {
	root := fw.f.dir
	name := filepath.Clean(ev.Name)
	if name == root {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			fw.loseRoot()
			return true
		}
		if ev.Has(fsnotify.Chmod) { // it may have become (un)readable
			fw.f.markAll(false)
			return true
		}
		return false
	}
	rel, err := filepath.Rel(root, name)
	if err != nil || !filepath.IsLocal(rel) || ignoredPath(rel) {
		return false
	}
	manifest := spec.IsManifest(filepath.Base(name))
	file, folder := false, false
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		folder = fw.unwatchTree(name)
		file = manifest
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(name); err == nil && fi.IsDir() {
			fw.watchTree(name)
			folder = true
		} else {
			file = file || manifest
		}
	}
	if ev.Has(fsnotify.Write) || ev.Has(fsnotify.Chmod) {
		_, isDir := fw.dirs[name]
		folder = folder || isDir
		file = file || manifest && !isDir
	}
	switch {
	case folder:
		fw.f.markAll(false)
	case file:
		fw.f.markFile(filepath.ToSlash(rel))
	}
	return folder || file
}

// ignoredPath reports whether any element of a path relative to the root
// is an ignored name.
func ignoredPath(rel string) bool {
	for elem := range strings.SplitSeq(filepath.ToSlash(rel), "/") {
		if spec.Ignored(elem) {
			return true
		}
	}
	return false
}

// sync walks the folder tree, watches every folder not yet watched and
// drops the watches of folders that are gone. It reports false when the
// root itself cannot be read.
func (fw *folderWatch) sync() bool {
	found, ok := fw.walkDirs(fw.f.dir)
	if !ok {
		return false
	}
	for dir := range fw.dirs {
		if _, still := found[dir]; !still {
			fw.unwatch(dir)
		}
	}
	for dir := range found {
		fw.watch(dir)
	}
	fw.noteWatching()
	return true
}

// watchTree watches a folder that appeared and every folder under it.
func (fw *folderWatch) watchTree(top string) {
	found, _ := fw.walkDirs(top)
	for dir := range found {
		fw.watch(dir)
	}
	fw.noteWatching()
}

// noteWatching tells Snapshot whether every folder is watched, so that
// events name every change.
func (fw *folderWatch) noteWatching() {
	fw.f.setWatching(fw.poll == nil && len(fw.failed) == 0)
}

// walkDirs returns the non-ignored folders at and under top. ok is false
// when top itself cannot be read; unreadable subfolders are logged (once)
// and skipped.
func (fw *folderWatch) walkDirs(top string) (found map[string]struct{}, ok bool) {
	found = make(map[string]struct{})
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == top {
				return err
			}
			fw.noteFailure(path, err)
			return nil // WalkDir skips the folder it could not read
		}
		if !d.IsDir() {
			if path == top {
				return fmt.Errorf("%s: %w", top, ErrNotFolder)
			}
			return nil
		}
		if path != top && spec.Ignored(d.Name()) {
			return filepath.SkipDir
		}
		found[path] = struct{}{}
		return nil
	})
	return found, err == nil
}

// watch adds a watch on dir (again: adding is idempotent, and re-adding
// repairs a watch fsnotify dropped while events were lost).
func (fw *folderWatch) watch(dir string) {
	if err := fw.w.Add(dir); err != nil {
		delete(fw.dirs, dir)
		fw.noteFailure(dir, err)
		return
	}
	fw.dirs[dir] = struct{}{}
	if _, was := fw.failed[dir]; was {
		delete(fw.failed, dir)
		fw.f.log.Info("watching folder", zap.String("dir", dir))
	}
}

// noteFailure logs, once per folder and class of error, that a folder cannot be watched or read; its files
// are still picked up by the periodic rescan when readable.
func (fw *folderWatch) noteFailure(dir string, err error) {
	class := errclass.Of(err, fs.ErrPermission, fs.ErrNotExist)
	if fw.failed[dir] == class {
		return
	}
	fw.failed[dir] = class
	fw.f.log.Warn("cannot watch folder, changes in it are seen at the next rescan",
		zap.String("dir", dir), zap.Error(err))
}

// unwatch drops the watch on one folder.
func (fw *folderWatch) unwatch(dir string) {
	delete(fw.dirs, dir)
	delete(fw.failed, dir)
	// The kernel drops the watch of a deleted folder itself: not found is
	// expected.
	if err := fw.w.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
		fw.f.log.Debug("unwatch folder", zap.String("dir", dir), zap.Error(err))
	}
}

// unwatchTree drops the watches at and under a path that was removed or
// moved away, and reports whether there were any (the path was a folder).
func (fw *folderWatch) unwatchTree(top string) bool {
	prefix := top + string(filepath.Separator)
	had := false
	for dir := range fw.dirs {
		if dir == top || strings.HasPrefix(dir, prefix) {
			fw.unwatch(dir)
			had = true
		}
	}
	return had
}

// loseRoot drops every watch after the root vanished and starts looking
// for it.
func (fw *folderWatch) loseRoot() {
	if fw.poll != nil {
		return
	}
	every := min(fw.f.rescan, maxRootPoll)
	fw.poll = time.NewTicker(every)
	for dir := range fw.dirs {
		fw.unwatch(dir)
	}
	fw.noteWatching()
	fw.f.log.Warn("folder vanished or cannot be read, looking for it", zap.Duration("every", every))
}

// foundRoot stops looking for the root.
func (fw *folderWatch) foundRoot() {
	if fw.poll != nil {
		fw.poll.Stop()
		fw.poll = nil
		fw.noteWatching()
	}
}

// pollC is the channel of the root poll ticker, nil (never ready) while
// the root is there.
func (fw *folderWatch) pollC() <-chan time.Time {
	if fw.poll == nil {
		return nil
	}
	return fw.poll.C
}
