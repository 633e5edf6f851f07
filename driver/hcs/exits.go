package hcs

import "sync"

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
