package hcs

import (
	"errors"
	"slices"
	"sync"

	"github.com/reconciler/reconciler/driver"
)

// exitTracker remembers which compute systems have a watcher waiting for
// their main process, the exit codes seen, and whom to tell. Safe for
// concurrent use.
type exitTracker struct {
	mu      sync.Mutex
	watched map[string]bool
	codes   map[string]int
	notify  func(id string)
}

func newExitTracker() *exitTracker {
	return &exitTracker{watched: make(map[string]bool), codes: make(map[string]int)}
}

// begin claims the watch of id; false when someone already watches it.
func (t *exitTracker) begin(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.watched[id] {
		return false
	}
	t.watched[id] = true
	return true
}

// exited ends the watch of id, records its exit code when known, and
// notifies the current subscriber (outside the lock).
func (t *exitTracker) exited(id string, code int, known bool) {
	t.mu.Lock()
	delete(t.watched, id)
	if known {
		t.codes[id] = code
	}
	notify := t.notify
	t.mu.Unlock()
	if notify != nil {
		notify(id)
	}
}

// exitCode returns the recorded exit code of id.
func (t *exitTracker) exitCode(id string) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.codes[id]
	return c, ok
}

// forget drops what is known of a removed system.
func (t *exitTracker) forget(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.codes, id)
}

// subscribe sets the function told of exits; nil unsubscribes.
func (t *exitTracker) subscribe(notify func(id string)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify = notify
}

// adoption is what adopting a running system (one an earlier run of the
// agent created) learned about its main process.
type adoption int

const (
	// adoptWatchProcess: the main process was opened; watch it.
	adoptWatchProcess adoption = iota
	// adoptWatchSystem: no main process is recorded; watch the system.
	adoptWatchSystem
	// adoptProcessGone: the main process exited while nobody watched; stop
	// the system and notify, as its exit would have been handled.
	adoptProcessGone
	// adoptRetry: the process could not be opened and nothing shows it
	// gone; try again at the next resync.
	adoptRetry
)

// adoptionOf decides how to adopt a system whose recorded main process is
// pid (0 when none is recorded). open is the failure of opening it (nil
// when it opened); listed is the system's process list when it could be
// read (listOK). A schema1 container outlives its main process, so a
// watcher of the system alone would wait forever for a process that has
// already exited: a process HCS says is gone (not found, already stopped)
// or that the system's own list lacks is gone. moby does not re-attach at
// all (libcontainerd/local/local_windows.go, LoadContainer terminates the
// system and reports it exited).
func adoptionOf(pid uint32, open *hcsFailure, listed []processListItem, listOK bool) adoption {
	switch {
	case pid == 0:
		return adoptWatchSystem
	case open == nil:
		return adoptWatchProcess
	case errors.Is(open.class(), driver.ErrNotFound), open.endsStop():
		return adoptProcessGone
	case listOK && !slices.ContainsFunc(listed, func(p processListItem) bool { return p.ProcessID == pid }):
		return adoptProcessGone
	}
	return adoptRetry
}
