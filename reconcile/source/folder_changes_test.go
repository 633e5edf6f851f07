package source

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/spec"
)

// TestFolderSnapshotChangedFiles walks a folder source through what Run's
// events tell it while it watches every folder: each step changes the
// folder and records what Run would (a file named, a rescan, an overflow),
// and the Snapshot that follows must read only what was named, keep the
// safety rules of a full walk, and find by stat identity what changed
// without an event once a rescan asks for a walk.
func TestFolderSnapshotChangedFiles(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	write := func(t *testing.T, rel, content string) {
		t.Helper()
		folderWrite(t, dir, rel, content)
		if err := os.Chtimes(filepath.Join(dir, rel), old, old); err != nil {
			t.Fatal(err)
		}
	}
	web := func(iso spec.Isolation) string { return manifest("web", string(iso)) }
	folderWrite(t, dir, "web.yaml", web(spec.IsolationProcess))
	folderWrite(t, dir, "db.yaml", manifest("db", "process"))
	folderWrite(t, dir, "other.yaml", manifest("other", "process"))
	folderAge(t, dir)
	f := newTestFolderSource(t, dir)
	f.setWatching(true)
	if got := folderDesired(folderSnap(t, f)); len(got) != 3 {
		t.Fatalf("first snapshot = %v", got)
	}
	if st := f.Stats(); st.Scans != 1 || st.Incremental != 0 {
		t.Fatalf("first snapshot: stats %+v, want one walk", st)
	}

	named := func(rels ...string) func(*FolderSource) {
		return func(f *FolderSource) {
			for _, rel := range rels {
				f.markFile(rel)
			}
		}
	}
	const any = -1
	steps := []struct {
		name                          string
		change                        func(t *testing.T)
		mark                          func(*FolderSource)
		want                          map[string]spec.Isolation
		wantErrs                      []string
		wantScans, wantReads, wantPar int64
	}{
		{
			name:   "nothing named: nothing read",
			change: func(*testing.T) {}, mark: named(),
			want: map[string]spec.Isolation{"web": "process", "db": "process", "other": "process"},
		},
		{
			name:   "an edit: that file read and parsed",
			change: func(t *testing.T) { write(t, "web.yaml", web(spec.IsolationHyperV)) }, mark: named("web.yaml"),
			want:      map[string]spec.Isolation{"web": "hyperv", "db": "process", "other": "process"},
			wantReads: 1, wantPar: 1,
		},
		{
			name:   "broken: keeps its last good containers",
			change: func(t *testing.T) { write(t, "web.yaml", brokenManifest("web")) }, mark: named("web.yaml"),
			want:     map[string]spec.Isolation{"web": "hyperv", "db": "process", "other": "process"},
			wantErrs: []string{"web.yaml:7:"}, wantReads: 1, wantPar: 1,
		},
		{
			name:   "emptied: declares nothing, keeps its last good containers",
			change: func(t *testing.T) { write(t, "web.yaml", "") }, mark: named("web.yaml"),
			want:      map[string]spec.Isolation{"web": "hyperv", "db": "process", "other": "process"},
			wantReads: 1, wantPar: 1,
		},
		{
			name: "a rename-over: the new content",
			change: func(t *testing.T) {
				write(t, ".web.yaml.tmp", web(spec.IsolationProcess))
				folderRename(t, filepath.Join(dir, ".web.yaml.tmp"), filepath.Join(dir, "web.yaml"))
			},
			mark:      named("web.yaml"),
			want:      map[string]spec.Isolation{"web": "process", "db": "process", "other": "process"},
			wantReads: 1, wantPar: 1,
		},
		{
			name:   "named, content unchanged: read, not parsed",
			change: func(t *testing.T) { write(t, "web.yaml", web(spec.IsolationProcess)) }, mark: named("web.yaml"),
			want:      map[string]spec.Isolation{"web": "process", "db": "process", "other": "process"},
			wantReads: 1,
		},
		{
			name:   "a delete: its containers go",
			change: func(t *testing.T) { folderRemove(t, filepath.Join(dir, "db.yaml")) }, mark: named("db.yaml"),
			want:      map[string]spec.Isolation{"web": "process", "other": "process"},
			wantReads: 1,
		},
		{
			name:   "named but gone before the read: nothing, no error",
			change: func(*testing.T) {}, mark: named("ghost.yaml"),
			want:      map[string]spec.Isolation{"web": "process", "other": "process"},
			wantReads: 1,
		},
		{
			name:   "a new file in a subfolder",
			change: func(t *testing.T) { write(t, "team/q.yaml", manifest("queue", "process")) }, mark: named("team/q.yaml"),
			want:      map[string]spec.Isolation{"web": "process", "other": "process", "queue": "process"},
			wantReads: 1, wantPar: 1,
		},
		{
			// Same size, same mtime: only the inode and change time tell.
			name: "changed without an event: not seen yet",
			change: func(t *testing.T) {
				path := filepath.Join(dir, "other.yaml")
				was, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				content := strings.Replace(manifest("other", "process"), "ltsc2022", "ltsc2019", 1)
				write(t, ".other.yaml.tmp", strings.Replace(content, "process", "hyperv ", 1))
				folderRename(t, filepath.Join(dir, ".other.yaml.tmp"), path)
				if runtime.GOOS == "windows" {
					// NTFS tunneling gives a file renamed over another, within
					// 15 s, the old one's creation time: with the mtime put
					// back, nothing a directory listing shows would tell. The
					// rescan finds this one by its mtime.
					return
				}
				if err := os.Chtimes(path, was.ModTime(), was.ModTime()); err != nil {
					t.Fatal(err)
				}
				if now, err := os.Stat(path); err != nil || now.Size() != was.Size() || !now.ModTime().Equal(was.ModTime()) {
					t.Fatalf("the rewrite changed size or mtime (%v): the test proves nothing", err)
				}
			},
			mark: named(),
			want: map[string]spec.Isolation{"web": "process", "other": "process", "queue": "process"},
		},
		{
			name:   "a rescan: the walk finds it by stat identity",
			change: func(*testing.T) {}, mark: func(f *FolderSource) { f.markAll(false) },
			want:      map[string]spec.Isolation{"web": "process", "other": "hyperv", "queue": "process"},
			wantScans: 1, wantReads: 1, wantPar: 1,
		},
		{
			name:   "an overflow: every file read again, none parsed",
			change: func(*testing.T) {}, mark: func(f *FolderSource) { f.markAll(true) },
			want:      map[string]spec.Isolation{"web": "process", "other": "hyperv", "queue": "process"},
			wantScans: 1, wantReads: 3,
		},
		{
			name:   "after the overflow: back to the named files",
			change: func(t *testing.T) { write(t, "team/q.yaml", manifest("queue", "hyperv")) }, mark: named("team/q.yaml"),
			want:      map[string]spec.Isolation{"web": "process", "other": "hyperv", "queue": "hyperv"},
			wantReads: 1, wantPar: 1,
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			st.mark(f)
			before := f.Stats()
			s := folderSnap(t, f)
			after := f.Stats()
			folderCheckSet(t, s, st.want, st.wantErrs)
			for _, c := range []struct {
				what      string
				got, want int64
			}{
				{"walks", after.Scans - before.Scans, st.wantScans},
				{"reads", after.Reads - before.Reads, st.wantReads},
				{"parses", after.Parses - before.Parses, st.wantPar},
			} {
				if c.want != any && c.got != c.want {
					t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
				}
			}
		})
	}
}

// TestFolderSnapshotWalksUnlessWatching: without Run watching every folder
// (no Run, a folder that could not be watched), every Snapshot walks.
func TestFolderSnapshotWalksUnlessWatching(t *testing.T) {
	dir := t.TempDir()
	folderWrite(t, dir, "web.yaml", manifest("web", "process"))
	f := newTestFolderSource(t, dir)
	folderSnap(t, f)
	f.markFile("web.yaml")
	folderSnap(t, f)
	if st := f.Stats(); st.Scans != 2 || st.Incremental != 0 {
		t.Errorf("stats %+v, want two walks", st)
	}
	f.setWatching(true)
	folderSnap(t, f)
	folderSnap(t, f)
	f.setWatching(false)
	folderSnap(t, f)
	if st := f.Stats(); st.Scans != 4 || st.Incremental != 1 {
		t.Errorf("stats %+v, want a walk when watching starts, one incremental, a walk when it stops", st)
	}
}
