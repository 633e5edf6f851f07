package source

// folderChanges is what Run's events tell the next Snapshot to look at. Run
// records a change before it notifies, so a Snapshot that follows a notify
// sees the change, or a later one does.
type folderChanges struct {
	// watching is true while Run watches every folder of the tree: its
	// events then name every change, and Snapshot may look at those files
	// alone.
	watching bool
	// full asks for a walk and a stat of every file: something happened
	// that events do not describe file by file (a folder appeared or went,
	// a rescan, a watch that was not in place).
	full bool
	// reread asks, with full, for every file to be read and hashed again,
	// whatever its stat says: events were lost (queue overflow, watcher
	// error), so no stat identity is taken on trust.
	reread bool
	// files are the manifests, relative to the folder and slash-separated,
	// that events named since the last Snapshot.
	files map[string]struct{}
}

// markFile records an event about one manifest file.
func (f *FolderSource) markFile(rel string) {
	f.changesMu.Lock()
	defer f.changesMu.Unlock()
	f.changes.add(rel)
}

func (c *folderChanges) add(rel string) {
	if c.files == nil {
		c.files = make(map[string]struct{})
	}
	c.files[rel] = struct{}{}
}

// markAll asks the next Snapshot to walk the whole folder, and, with
// reread, to read every file again.
func (f *FolderSource) markAll(reread bool) {
	f.changesMu.Lock()
	defer f.changesMu.Unlock()
	f.changes.full = true
	f.changes.reread = f.changes.reread || reread
}

// setWatching records whether Run watches every folder. Starting to watch
// asks for a full walk: what changed before the watches were in place has
// no event.
func (f *FolderSource) setWatching(on bool) {
	f.changesMu.Lock()
	defer f.changesMu.Unlock()
	if on && !f.changes.watching {
		f.changes.full = true
	}
	f.changes.watching = on
}

// takeChanges returns the changes recorded so far and starts a new record
// (watching carries over).
func (f *FolderSource) takeChanges() folderChanges {
	f.changesMu.Lock()
	defer f.changesMu.Unlock()
	ch := f.changes
	f.changes = folderChanges{watching: ch.watching}
	return ch
}

// putBack returns changes a Snapshot took but could not finish to the
// record, for the next Snapshot.
func (f *FolderSource) putBack(ch folderChanges) {
	f.changesMu.Lock()
	defer f.changesMu.Unlock()
	f.changes.full = f.changes.full || ch.full
	f.changes.reread = f.changes.reread || ch.reread
	for rel := range ch.files {
		f.changes.add(rel)
	}
}
