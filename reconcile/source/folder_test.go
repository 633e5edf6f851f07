package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/spec"
)

// folderWrite writes content at dir/rel, creating parent folders.
func folderWrite(t testing.TB, dir, rel, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// folderWriteAll writes each rel → content of files under dir.
func folderWriteAll(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		folderWrite(t, dir, rel, content)
	}
}

// folderAge sets the mtime of every file under dir an hour back, so that
// Snapshot trusts size and mtime alone (see racyWindow).
func folderAge(t testing.TB, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(path, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// folderDesired maps container name → isolation of a snapshot.
func folderDesired(s spec.Set) map[string]spec.Isolation {
	out := make(map[string]spec.Isolation, len(s.Containers))
	for _, c := range s.Containers {
		out[c.Metadata.Name] = c.Spec.Isolation
	}
	return out
}

// folderProblems renders problems as "file:line: …" for substring checks.
func folderProblems(ps []spec.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

// folderCheckSet checks a snapshot's containers (name → isolation) and
// that its errors start, in order, with wantErrs.
func folderCheckSet(t *testing.T, s spec.Set, want map[string]spec.Isolation, wantErrs []string) {
	t.Helper()
	if got := folderDesired(s); !maps.Equal(got, want) {
		t.Errorf("containers = %v, want %v", got, want)
	}
	errs := folderProblems(s.Errors)
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors = %q, want %d", errs, len(wantErrs))
	}
	for i, w := range wantErrs {
		if !strings.HasPrefix(errs[i], w) {
			t.Errorf("error = %q, want prefix %q", errs[i], w)
		}
	}
}

// newTestFolderSource is a source on dir with the default options.
func newTestFolderSource(t testing.TB, dir string) *FolderSource {
	t.Helper()
	f, err := NewFolderSource(FolderOptions{Dir: dir, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// folderSnap takes a Snapshot and fails the test on error.
func folderSnap(t testing.TB, f *FolderSource) spec.Set {
	t.Helper()
	s, err := f.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewFolderSource(t *testing.T) {
	dir := t.TempDir()
	folderWrite(t, dir, "file.yaml", manifest("web", string(spec.IsolationProcess)))
	tests := []struct {
		name       string
		dir        string
		wantString string
		wantErr    error
	}{
		{name: "folder", dir: dir, wantString: "dir " + dir},
		{name: "trailing slash cleaned", dir: dir + "/", wantString: "dir " + dir},
		{name: "missing", dir: filepath.Join(dir, "nope"), wantErr: fs.ErrNotExist},
		{name: "a file", dir: filepath.Join(dir, "file.yaml"), wantErr: ErrNotFolder},
		{name: "empty path", dir: "", wantErr: ErrNotFolder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFolderSource(FolderOptions{Dir: tt.dir, Logger: zaptest.NewLogger(t)})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
			if f.debounce != DefaultFolderDebounce || f.rescan != DefaultFolderRescan {
				t.Errorf("defaults = %v, %v", f.debounce, f.rescan)
			}
		})
	}
}

func TestNewFolderSourceRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("manifests", 0o755); err != nil {
		t.Fatal(err)
	}
	f := newTestFolderSource(t, "manifests")
	if want := "dir " + filepath.Join(dir, "manifests"); f.String() != want {
		t.Errorf("String() = %q, want %q", f.String(), want)
	}
}

func TestFolderSnapshotDesiredSet(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		want     map[string]spec.Isolation
		wantErrs []string // substrings, one per expected error, in order
	}{
		{
			name: "empty folder",
			want: map[string]spec.Isolation{},
		},
		{
			name: "files in subfolders, yaml and yml",
			files: map[string]string{
				"web.yaml":         manifest("web", string(spec.IsolationProcess)),
				"team/db.yml":      manifest("db", string(spec.IsolationHyperV)),
				"team/deep/q.yaml": manifest("queue", string(spec.IsolationProcess)),
			},
			want: map[string]spec.Isolation{"web": "process", "db": "hyperv", "queue": "process"},
		},
		{
			name: "several documents in one file",
			files: map[string]string{
				"two.yaml": manifest("a", string(spec.IsolationProcess)) + "---\n" + manifest("b", string(spec.IsolationHyperV)),
			},
			want: map[string]spec.Isolation{"a": "process", "b": "hyperv"},
		},
		{
			name: "ignored names and other files",
			files: map[string]string{
				"web.yaml":           manifest("web", string(spec.IsolationProcess)),
				".hidden.yaml":       manifest("hidden", string(spec.IsolationProcess)),
				".git/x.yaml":        manifest("dotdir", string(spec.IsolationProcess)),
				"web.yaml~":          manifest("backup", string(spec.IsolationProcess)),
				".web.yaml.swp":      "binary swap",
				"#web.yaml#":         manifest("autosave", string(spec.IsolationProcess)),
				"web.yaml.tmp":       manifest("tmp", string(spec.IsolationProcess)),
				"4913":               "",
				"README.md":          "# manifests",
				"sub/.cache/a.yml":   manifest("cached", string(spec.IsolationProcess)),
				"sub/notes.txt":      "notes",
				"sub/other.yaml.bak": "x",
			},
			want: map[string]spec.Isolation{"web": "process"},
		},
		{
			name: "invalid file reports file and line",
			files: map[string]string{
				"good.yaml":    manifest("good", string(spec.IsolationProcess)),
				"sub/bad.yaml": brokenManifest("bad"),
			},
			want:     map[string]spec.Isolation{"good": "process"},
			wantErrs: []string{"sub/bad.yaml:7:"},
		},
		{
			name: "duplicate names across files: neither is kept",
			files: map[string]string{
				"a.yaml":     manifest("web", string(spec.IsolationProcess)),
				"b.yaml":     manifest("db", string(spec.IsolationProcess)),
				"sub/c.yaml": manifest("web", string(spec.IsolationHyperV)),
			},
			want:     map[string]spec.Isolation{"db": "process"},
			wantErrs: []string{"a.yaml:1: web: metadata.name: name \"web\" is declared 2 times, in a.yaml:1, sub/c.yaml:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			folderWriteAll(t, dir, tt.files)
			s := folderSnap(t, newTestFolderSource(t, dir))
			if got := folderDesired(s); !maps.Equal(got, tt.want) {
				t.Errorf("containers = %v, want %v", got, tt.want)
			}
			errs := folderProblems(s.Errors)
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("errors = %q, want %d matching %q", errs, len(tt.wantErrs), tt.wantErrs)
			}
			for i, want := range tt.wantErrs {
				if !strings.Contains(errs[i], want) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
			if s.HoldRemovals || s.Revision != "" {
				t.Errorf("HoldRemovals = %v, Revision = %q, want false, empty", s.HoldRemovals, s.Revision)
			}
			for _, c := range s.Containers {
				if filepath.IsAbs(c.Origin.File) || c.Origin.File == "" {
					t.Errorf("%s: Origin.File = %q, want a path relative to the folder", c.Metadata.Name, c.Origin.File)
				}
			}
		})
	}
}

// TestFolderSnapshotParsesOnlyChangedFiles: among 1,000 files, an edit costs
// one parse, a touch without a change costs a read and no parse, and
// nothing changed costs neither.
func TestFolderSnapshotParsesOnlyChangedFiles(t *testing.T) {
	const n = 1000
	dir := t.TempDir()
	for i := range n {
		folderWrite(t, dir, fmt.Sprintf("d%02d/c%04d.yaml", i%10, i), manifest(fmt.Sprintf("c%04d", i), "process"))
	}
	folderAge(t, dir)
	f := newTestFolderSource(t, dir)

	if s := folderSnap(t, f); len(s.Containers) != n || len(s.Errors) != 0 {
		t.Fatalf("cold snapshot: %d containers, errors %v", len(s.Containers), s.Errors)
	}
	if st := f.Stats(); st.Parses != n || st.Reads != n {
		t.Fatalf("cold snapshot: %d parses, %d reads, want %d each", st.Parses, st.Reads, n)
	}

	edited := filepath.Join(dir, "d07", "c0007.yaml")
	touched := filepath.Join(dir, "d08", "c0008.yaml")
	steps := []struct {
		name       string
		change     func(t *testing.T)
		wantParses int64
		wantReads  int64
		wantIso    spec.Isolation // of c0007
	}{
		{name: "nothing changed", change: func(*testing.T) {}, wantIso: spec.IsolationProcess},
		{
			name: "one file edited",
			change: func(t *testing.T) {
				folderWrite(t, dir, "d07/c0007.yaml", manifest("c0007", string(spec.IsolationHyperV)))
			},
			wantParses: 1, wantReads: 1, wantIso: spec.IsolationHyperV,
		},
		{
			name: "one file touched, content unchanged",
			change: func(t *testing.T) {
				now := time.Now()
				if err := os.Chtimes(touched, now, now); err != nil {
					t.Fatal(err)
				}
				old := now.Add(-time.Hour) // and the edited one made old, so it is trusted again
				if err := os.Chtimes(edited, old, old); err != nil {
					t.Fatal(err)
				}
			},
			wantReads: 2, wantIso: spec.IsolationHyperV,
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := f.Stats()
			st.change(t)
			s := folderSnap(t, f)
			after := f.Stats()
			if got := after.Parses - before.Parses; got != st.wantParses {
				t.Errorf("parses = %d, want %d", got, st.wantParses)
			}
			if got := after.Reads - before.Reads; got != st.wantReads {
				t.Errorf("reads = %d, want %d", got, st.wantReads)
			}
			if len(s.Containers) != n {
				t.Errorf("%d containers, want %d", len(s.Containers), n)
			}
			if got := folderDesired(s)["c0007"]; got != st.wantIso {
				t.Errorf("c0007 isolation = %q, want %q", got, st.wantIso)
			}
		})
	}
}

// TestFolderSnapshotRacyRewrite: a rewrite that keeps size and mtime (a
// second write within one timestamp tick) is still seen, because the first
// read happened too soon after the mtime to trust it.
func TestFolderSnapshotRacyRewrite(t *testing.T) {
	dir := t.TempDir()
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	path := filepath.Join(dir, "web.yaml")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newTestFolderSource(t, dir)
	if got := folderDesired(folderSnap(t, f))["web"]; got != spec.IsolationProcess {
		t.Fatalf("isolation = %q, want process", got)
	}
	// Same length: "process" → "hyperv\x20" would change the YAML; swap the
	// image tag for one of the same length instead.
	content := strings.Replace(manifest("web", string(spec.IsolationProcess)), "ltsc2022", "ltsc2019", 1)
	folderWrite(t, dir, "web.yaml", content)
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	s := folderSnap(t, f)
	if len(s.Containers) != 1 || !strings.HasSuffix(s.Containers[0].Spec.Image, "ltsc2019") {
		t.Fatalf("containers = %+v, want the rewritten image", s.Containers)
	}
	if got := f.Stats().Parses; got != 2 {
		t.Errorf("parses = %d, want 2", got)
	}
}

// TestFolderSnapshotLastGood walks one file through its lives: valid,
// broken (keeps its containers, error with line), fixed, deleted.
func TestFolderSnapshotLastGood(t *testing.T) {
	dir := t.TempDir()
	folderWrite(t, dir, "other.yaml", manifest("other", string(spec.IsolationProcess)))
	f := newTestFolderSource(t, dir)
	steps := []struct {
		name     string
		change   func(t *testing.T)
		want     map[string]spec.Isolation
		wantErrs []string
	}{
		{
			name:   "never valid: no containers, error",
			change: func(t *testing.T) { folderWrite(t, dir, "web.yaml", brokenManifest("web")) },
			want:   map[string]spec.Isolation{"other": "process"}, wantErrs: []string{"web.yaml:7:"},
		},
		{
			name:   "valid",
			change: func(t *testing.T) { folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess))) },
			want:   map[string]spec.Isolation{"other": "process", "web": "process"},
		},
		{
			name:   "broken keeps last good",
			change: func(t *testing.T) { folderWrite(t, dir, "web.yaml", brokenManifest("web")) },
			want:   map[string]spec.Isolation{"other": "process", "web": "process"}, wantErrs: []string{"web.yaml:7:"},
		},
		{
			name:   "fixed",
			change: func(t *testing.T) { folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationHyperV))) },
			want:   map[string]spec.Isolation{"other": "process", "web": "hyperv"},
		},
		{
			name: "deleted is forgotten",
			change: func(t *testing.T) {
				if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]spec.Isolation{"other": "process"},
		},
		{
			name:   "recreated broken has no last good",
			change: func(t *testing.T) { folderWrite(t, dir, "web.yaml", brokenManifest("web")) },
			want:   map[string]spec.Isolation{"other": "process"}, wantErrs: []string{"web.yaml:7:"},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			s := folderSnap(t, f)
			folderCheckSet(t, s, st.want, st.wantErrs)
		})
	}
}

// TestFolderSnapshotVanishedFolder: a folder that disappears holds removals
// and keeps the last containers; when it is back, its new content rules.
func TestFolderSnapshotVanishedFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "manifests")
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	f := newTestFolderSource(t, dir)
	if s := folderSnap(t, f); len(s.Containers) != 1 || s.HoldRemovals {
		t.Fatalf("first snapshot = %+v", s)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the hold is stable across passes
		s := folderSnap(t, f)
		if !s.HoldRemovals || !strings.Contains(s.HoldReason, dir) {
			t.Errorf("HoldRemovals = %v, HoldReason = %q, want a hold naming %s", s.HoldRemovals, s.HoldReason, dir)
		}
		if got := folderDesired(s); !maps.Equal(got, map[string]spec.Isolation{"web": "process"}) {
			t.Errorf("containers = %v, want the last good web", got)
		}
	}

	folderWrite(t, dir, "db.yaml", manifest("db", string(spec.IsolationHyperV)))
	s := folderSnap(t, f)
	if s.HoldRemovals || s.HoldReason != "" {
		t.Errorf("HoldRemovals = %v (%q) after the folder is back", s.HoldRemovals, s.HoldReason)
	}
	if got := folderDesired(s); !maps.Equal(got, map[string]spec.Isolation{"db": "hyperv"}) {
		t.Errorf("containers = %v, want only db", got)
	}
}

func TestFolderSnapshotCancelled(t *testing.T) {
	dir := t.TempDir()
	folderWrite(t, dir, "web.yaml", manifest("web", string(spec.IsolationProcess)))
	f := newTestFolderSource(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Snapshot(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestFolderSnapshotWorkersAgree: the parallel load gives the same set, in
// the same order, as a single worker.
func TestFolderSnapshotWorkersAgree(t *testing.T) {
	dir := t.TempDir()
	for i := range 300 {
		content := manifest(fmt.Sprintf("c%03d", i), "process")
		if i%50 == 0 {
			content = brokenManifest(fmt.Sprintf("c%03d", i))
		}
		folderWrite(t, dir, fmt.Sprintf("s%d/c%03d.yaml", i%7, i), content)
	}
	var got []spec.Set
	for _, workers := range []int{1, 8} {
		f := newTestFolderSource(t, dir)
		f.workers = workers
		got = append(got, folderSnap(t, f))
	}
	names := func(s spec.Set) []string {
		out := make([]string, len(s.Containers))
		for i, c := range s.Containers {
			out[i] = c.Origin.String() + " " + c.Metadata.Name
		}
		return out
	}
	if !slices.Equal(names(got[0]), names(got[1])) {
		t.Errorf("containers differ between 1 and 8 workers")
	}
	if !slices.Equal(folderProblems(got[0].Errors), folderProblems(got[1].Errors)) || len(got[0].Errors) != 6 {
		t.Errorf("errors differ or are not 6: %q vs %q", folderProblems(got[0].Errors), folderProblems(got[1].Errors))
	}
}

// TestFolderSnapshotOneCopy: the containers the source keeps between
// snapshots, each file's and the last good ones of a broken file, are
// those of the set it handed out, not a second copy; after an edit, those
// of the new set.
func TestFolderSnapshotOneCopy(t *testing.T) {
	dir := t.TempDir()
	folderWriteAll(t, dir, map[string]string{
		"a.yaml":     manifest("web", string(spec.IsolationProcess)),
		"b/c.yaml":   manifest("db", string(spec.IsolationProcess)),
		"b/d.yaml":   manifest("cache", string(spec.IsolationProcess)),
		"empty.yaml": "",
	})
	f := newTestFolderSource(t, dir)
	steps := []struct {
		name   string
		change func(t *testing.T)
		want   map[string]spec.Isolation
	}{
		{name: "first", change: func(*testing.T) {},
			want: map[string]spec.Isolation{"web": "process", "db": "process", "cache": "process"}},
		{name: "one file edited", change: func(t *testing.T) { folderWrite(t, dir, "b/c.yaml", manifest("db", string(spec.IsolationHyperV))) },
			want: map[string]spec.Isolation{"web": "process", "db": "hyperv", "cache": "process"}},
		{name: "one file broken keeps its last good", change: func(t *testing.T) { folderWrite(t, dir, "a.yaml", brokenManifest("web")) },
			want: map[string]spec.Isolation{"web": "process", "db": "hyperv", "cache": "process"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			s := folderSnap(t, f)
			if got := folderDesired(s); !maps.Equal(got, st.want) {
				t.Fatalf("containers = %v, want %v", got, st.want)
			}
			kept := map[string][]spec.Container{}
			for rel, e := range f.cache.files {
				kept["file "+rel] = e.containers
			}
			for _, rel := range f.cache.lastGood.Files() {
				kept["last good of "+rel] = f.cache.lastGood.files[rel]
			}
			for what, cs := range kept {
				for i := range cs {
					if !containsAddr(s.Containers, &cs[i]) {
						t.Errorf("%s: %s is a copy, not the set's", what, cs[i].Metadata.Name)
					}
				}
			}
		})
	}
}

// containsAddr reports whether c is an element of cs (the same memory).
func containsAddr(cs []spec.Container, c *spec.Container) bool {
	for i := range cs {
		if &cs[i] == c {
			return true
		}
	}
	return false
}
