package hcs

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/spec"
)

// dirImporter extracts layer tars into plain folders, as a stand-in for
// hcsshim's wclayer import, and records what it was asked to do.
type dirImporter struct {
	mu      sync.Mutex
	imports []importCall
	failAt  int // 1-based import call that fails; 0 never
}

type importCall struct {
	Dir     string
	Parents []string
}

func (f *dirImporter) Import(_ context.Context, dir string, parents []string, r io.Reader) (int64, error) {
	f.mu.Lock()
	f.imports = append(f.imports, importCall{Dir: filepath.Base(dir), Parents: bases(parents)})
	fail := len(f.imports) == f.failAt
	f.mu.Unlock()
	if err := os.MkdirAll(filepath.Join(dir, "Files"), 0o755); err != nil {
		return 0, err
	}
	var total int64
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.Create(filepath.Join(dir, "Files", filepath.Base(h.Name)))
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(out, tr)
		total += n
		if err := errors.Join(err, out.Close()); err != nil {
			return 0, err
		}
	}
	if fail {
		return 0, errors.New("injected import failure")
	}
	return total, nil
}

func (f *dirImporter) Destroy(dir string) error { return os.RemoveAll(dir) }

func (f *dirImporter) calls() []importCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]importCall(nil), f.imports...)
}

func bases(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func newTestStore(t *testing.T, imp layerImporter) (*layerStore, *fixedClock) {
	t.Helper()
	s, err := newLayerStore(t.TempDir(), imp, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fixedClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	s.now = clock.now
	return s, clock
}

// pullFrom pushes img to a fresh in-process registry and resolves it.
func pullFrom(t *testing.T, reg *testRegistry, repoTag string, img v1.Image) pulledImage {
	t.Helper()
	ref := reg.push(t, repoTag, img)
	p, err := newTestPuller(t).resolve(t.Context(), ref, server2022, spec.IsolationProcess, spec.ImageVersion{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ensure(t *testing.T, s *layerStore, img pulledImage) (dirs, chain []string, err error) {
	t.Helper()
	err = s.withLock(t.Context(), func() error {
		var err error
		dirs, chain, err = s.ensureLayers(t.Context(), img, func(int, int, int64, bool) {})
		return err
	})
	return dirs, chain, err
}

func TestEnsureLayersImportsAndReuses(t *testing.T) {
	reg := newTestRegistry(t)
	base, mid := randomLayer(t), randomLayer(t)
	appA := pullFrom(t, reg, "app-a:1", windowsImage(t, ltsc2022Version, base, mid, randomLayer(t)))
	appB := pullFrom(t, reg, "app-b:1", windowsImage(t, ltsc2022Version, base, randomLayer(t)))
	imp := &dirImporter{}
	s, _ := newTestStore(t, imp)

	dirsA, chainA, err := ensure(t, s, appA)
	if err != nil {
		t.Fatalf("ensure app-a: %v", err)
	}
	if len(dirsA) != 3 || len(chainA) != 3 {
		t.Fatalf("ensure app-a: %d dirs, %d chain ids; want 3", len(dirsA), len(chainA))
	}
	wantCalls := []importCall{
		{Dir: chainA[0], Parents: []string{}},
		{Dir: chainA[1], Parents: []string{chainA[0]}},
		{Dir: chainA[2], Parents: []string{chainA[1], chainA[0]}},
	}
	if got := imp.calls(); !reflect.DeepEqual(got, wantCalls) {
		t.Errorf("imports %+v\nwant %+v (parents nearest first, base last)", got, wantCalls)
	}
	for i, d := range dirsA {
		if filepath.Base(d) != chainA[i] {
			t.Errorf("dir %s is not named by its chain id %s", d, chainA[i])
		}
		files, err := os.ReadDir(filepath.Join(d, "Files"))
		if err != nil || len(files) == 0 {
			t.Errorf("layer %d not extracted into %s: %v", i, d, err)
		}
	}

	if _, _, err := ensure(t, s, appA); err != nil {
		t.Fatal(err)
	}
	if n := len(imp.calls()); n != 3 {
		t.Errorf("ensuring app-a again imported %d layers in all, want none more (3)", n)
	}

	_, chainB, err := ensure(t, s, appB)
	if err != nil {
		t.Fatal(err)
	}
	if chainB[0] != chainA[0] {
		t.Errorf("shared base has chain ids %s and %s, want one", chainA[0], chainB[0])
	}
	calls := imp.calls()
	if len(calls) != 4 || calls[3].Dir != chainB[1] || !reflect.DeepEqual(calls[3].Parents, []string{chainA[0]}) {
		t.Errorf("app-b imports %+v, want only its top layer on the shared base", calls[3:])
	}
}

func TestEnsureLayersRedoesFailedImport(t *testing.T) {
	reg := newTestRegistry(t)
	img := pullFrom(t, reg, "app:1", windowsImage(t, ltsc2022Version, randomLayer(t), randomLayer(t)))
	imp := &dirImporter{failAt: 2}
	s, _ := newTestStore(t, imp)
	if _, _, err := ensure(t, s, img); err == nil {
		t.Fatal("ensure succeeded despite the import failure")
	}
	markers, err := s.markers()
	if err != nil || len(markers) != 1 {
		t.Fatalf("after a failed second import: %d markers (%v), want the base's only", len(markers), err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.root, "layers"))
	if len(entries) != 2 {
		t.Errorf("layers/ has %d entries, want the base folder and its marker only", len(entries))
	}
	imp.failAt = 0
	_, chain, err := ensure(t, s, img)
	if err != nil {
		t.Fatal(err)
	}
	calls := imp.calls()
	if len(calls) != 3 || calls[2].Dir != chain[1] {
		t.Errorf("retry imported %+v, want only the failed layer again", calls[2:])
	}
}

func TestEnsureLayersCancelled(t *testing.T) {
	reg := newTestRegistry(t)
	img := pullFrom(t, reg, "app:1", windowsImage(t, ltsc2022Version, randomLayer(t)))
	imp := &dirImporter{}
	s, _ := newTestStore(t, imp)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.withLock(t.Context(), func() error {
		_, _, err := s.ensureLayers(ctx, img, func(int, int, int64, bool) {})
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ensureLayers with a cancelled context = %v, want context.Canceled", err)
	}
	if n := len(imp.calls()); n != 0 {
		t.Errorf("%d imports after cancellation, want none", n)
	}
}

func TestWithLockWaitsUntilCancelled(t *testing.T) {
	s, _ := newTestStore(t, &dirImporter{})
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.withLock(t.Context(), func() error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	ran := false
	err := s.withLock(ctx, func() error { ran = true; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Errorf("withLock while held = %v (ran %v), want DeadlineExceeded without running", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.withLock(t.Context(), func() error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("withLock after release = %v (ran %v), want it to run", err, ran)
	}
}

func TestCollectGarbage(t *testing.T) {
	reg := newTestRegistry(t)
	base := randomLayer(t)
	appA := pullFrom(t, reg, "a:1", windowsImage(t, ltsc2022Version, base, randomLayer(t)))
	appB := pullFrom(t, reg, "b:1", windowsImage(t, ltsc2022Version, base, randomLayer(t)))
	s, clock := newTestStore(t, &dirImporter{})
	_, chainA, err := ensure(t, s, appA)
	if err != nil {
		t.Fatal(err)
	}
	_, chainB, err := ensure(t, s, appB)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.writeRecord(systemRecord{ID: "a_v1-1", Layers: chainA, Created: clock.t}); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		before  func()
		want    []string
	}{
		{"within retention nothing goes", 30 * time.Minute, nil, nil},
		{"after retention the unused top layer goes", time.Hour, nil, []string{chainB[1]}},
		{"once the record goes, the rest", 0, func() {
			if err := s.deleteRecord("a_v1-1"); err != nil {
				t.Fatal(err)
			}
		}, sorted(chainA[0], chainA[1])},
		{"nothing left", 0, nil, nil},
	}
	for _, st := range steps {
		clock.t = clock.t.Add(st.advance)
		if st.before != nil {
			st.before()
		}
		got, err := s.collectGarbage(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: removed %v, want %v", st.name, got, st.want)
		}
		for _, id := range got {
			if _, err := os.Stat(s.layerDir(id)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s still on disk (%v)", st.name, id, err)
			}
		}
	}
}

func sorted(a, b string) []string {
	if a > b {
		return []string{b, a}
	}
	return []string{a, b}
}

func TestChainIDs(t *testing.T) {
	h := func(hex string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: hex} }
	sum := func(s string) v1.Hash {
		d := sha256.Sum256([]byte(s))
		return h(hex.EncodeToString(d[:]))
	}
	l0, l1, l2 := h(strings.Repeat("1", 64)), h(strings.Repeat("2", 64)), h(strings.Repeat("3", 64))
	// The OCI image spec: ChainID(L0) = DiffID(L0);
	// ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)).
	c1 := sum(l0.String() + " " + l1.String())
	c2 := sum(c1.String() + " " + l2.String())
	tests := []struct {
		name string
		in   []v1.Hash
		want []v1.Hash
	}{
		{"none", nil, []v1.Hash{}},
		{"base only", []v1.Hash{l0}, []v1.Hash{l0}},
		{"three layers", []v1.Hash{l0, l1, l2}, []v1.Hash{l0, c1, c2}},
		{"same top on another base differs", []v1.Hash{l2, l1}, []v1.Hash{l2, sum(l2.String() + " " + l1.String())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chainIDs(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("chainIDs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStaleRecordsAndUnusedLayers(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	records := map[string]systemRecord{
		"live_v1-1":     {ID: "live_v1-1", Layers: []string{"base", "live"}, Created: now.Add(-time.Hour)},
		"gone_v1-1":     {ID: "gone_v1-1", Layers: []string{"base", "gone"}, Created: now.Add(-time.Hour)},
		"creating_v1-1": {ID: "creating_v1-1", Layers: []string{"base", "new"}, Created: now.Add(-time.Minute)},
	}
	live := map[string]bool{"live_v1-1": true}
	if got, want := staleRecords(records, live, now, 10*time.Minute), []string{"gone_v1-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("staleRecords = %v, want %v", got, want)
	}
	markers := []layerMarker{
		{ChainID: "base", LastUsed: now.Add(-48 * time.Hour)},
		{ChainID: "orphan-old", LastUsed: now.Add(-2 * time.Hour)},
		{ChainID: "orphan-recent", LastUsed: now.Add(-time.Minute)},
		{ChainID: "gone", LastUsed: now.Add(-48 * time.Hour)},
	}
	if got, want := unusedLayers(markers, records, now, time.Hour), []string{"orphan-old"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unusedLayers = %v, want %v", got, want)
	}
}

func TestRecords(t *testing.T) {
	s, clock := newTestStore(t, &dirImporter{})
	rec := systemRecord{ID: "web_v1-1", Name: "web", Image: "img:1", Isolation: spec.IsolationHyperV,
		Layers: []string{"a", "b"}, Scratch: s.scratchDir("web_v1-1"), Endpoint: "ep", PID: 42, Created: clock.t}
	if err := s.writeRecord(rec); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.readRecord(rec.ID)
	if err != nil || !ok || !reflect.DeepEqual(got, rec) {
		t.Errorf("readRecord = %+v, %v, %v; want %+v", got, ok, err, rec)
	}
	all, err := s.records()
	if err != nil || len(all) != 1 {
		t.Errorf("records = %v, %v; want one", all, err)
	}
	if err := s.deleteRecord(rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.deleteRecord(rec.ID); err != nil {
		t.Errorf("deleting a missing record: %v, want nil", err)
	}
	if _, ok, err := s.readRecord(rec.ID); ok || err != nil {
		t.Errorf("readRecord after delete = %v, %v; want none", ok, err)
	}
	if err := os.WriteFile(s.recordPath("bad"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.readRecord("bad"); err == nil {
		t.Error("a corrupt record read without error")
	}
}

// stuckImporter is a dirImporter whose Destroy fails for the folders named
// in stuck (by base name), as hcsshim.DestroyLayer does for a folder
// something still holds open.
type stuckImporter struct {
	dirImporter
	mu    sync.Mutex
	stuck map[string]bool
}

func (f *stuckImporter) Destroy(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stuck[filepath.Base(dir)] {
		return errors.New("injected: the folder is in use")
	}
	return f.dirImporter.Destroy(dir)
}

func (f *stuckImporter) setStuck(name string, stuck bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stuck[name] = stuck
}

// oneLayerStore is a store over imp holding the one layer of img, whose
// chain ID is id.
func oneLayerStore(t *testing.T, imp layerImporter) (s *layerStore, clock *fixedClock, img pulledImage, id string) {
	t.Helper()
	img = pullFrom(t, newTestRegistry(t), "a:1", windowsImage(t, ltsc2022Version, randomLayer(t)))
	s, clock = newTestStore(t, imp)
	_, chain, err := ensure(t, s, img)
	if err != nil {
		t.Fatal(err)
	}
	return s, clock, img, chain[0]
}

// TestCollectGarbageDestroyFails: a layer whose folder cannot be destroyed
// still leaves the store (set aside as <id>-removing), its chain ID can be
// imported again at once, and the leftover goes at the first collection
// after the folder is released.
func TestCollectGarbageDestroyFails(t *testing.T) {
	imp := &stuckImporter{stuck: map[string]bool{}}
	s, clock, img, id := oneLayerStore(t, imp)
	imp.setStuck(id+removingSuffix, true)
	clock.t = clock.t.Add(layerRetention)

	removed, err := s.collectGarbage(t.Context())
	if err != nil || !reflect.DeepEqual(removed, []string{id}) {
		t.Fatalf("collectGarbage = %v, %v; want [%s]", removed, err, id)
	}
	if _, ok, _ := s.readMarker(id); ok {
		t.Error("the marker survived the collection")
	}
	if _, err := os.Stat(s.removingDir(id)); err != nil {
		t.Errorf("the folder that would not go is not set aside: %v", err)
	}

	if _, _, err := ensure(t, s, img); err != nil {
		t.Fatalf("re-import blocked by the leftover: %v", err)
	}
	if n := len(imp.calls()); n != 2 {
		t.Errorf("%d imports, want 2 (the layer imported again)", n)
	}
	if _, ok, _ := s.readMarker(id); !ok {
		t.Error("the re-imported layer has no marker")
	}

	imp.setStuck(id+removingSuffix, false)
	if swept := s.sweepRemoving(); !reflect.DeepEqual(swept, []string{id + removingSuffix}) {
		t.Errorf("sweepRemoving = %v, want the leftover", swept)
	}
	if _, err := os.Stat(s.removingDir(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover is still there (%v)", err)
	}
	if _, err := os.Stat(s.layerDir(id)); err != nil {
		t.Errorf("the sweep touched the re-imported layer: %v", err)
	}
}

// TestCollectGarbageRenameFails: a layer whose folder cannot be set aside
// (here: an older leftover of the same chain ID that will not go is in the
// way) keeps its marker and stays usable without a re-import.
func TestCollectGarbageRenameFails(t *testing.T) {
	imp := &stuckImporter{stuck: map[string]bool{}}
	s, clock, img, id := oneLayerStore(t, imp)
	if err := os.MkdirAll(filepath.Join(s.removingDir(id), "Files"), 0o755); err != nil {
		t.Fatal(err)
	}
	imp.setStuck(id+removingSuffix, true)
	clock.t = clock.t.Add(layerRetention)

	removed, err := s.collectGarbage(t.Context())
	if err != nil || len(removed) != 0 {
		t.Fatalf("collectGarbage = %v, %v; want nothing removed", removed, err)
	}
	if _, ok, _ := s.readMarker(id); !ok {
		t.Error("the marker went although the folder stayed")
	}
	if _, _, err := ensure(t, s, img); err != nil {
		t.Fatal(err)
	}
	if n := len(imp.calls()); n != 1 {
		t.Errorf("%d imports, want 1 (the kept layer is reused)", n)
	}
}

// TestEnsureLayersMarkerWithoutFolder: a marker whose folder is gone (a
// collection that set the folder aside but could not delete the marker)
// makes the layer be imported again, not reported present.
func TestEnsureLayersMarkerWithoutFolder(t *testing.T) {
	imp := &dirImporter{}
	s, _, img, id := oneLayerStore(t, imp)
	if err := os.Rename(s.layerDir(id), s.removingDir(id)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ensure(t, s, img); err != nil {
		t.Fatal(err)
	}
	if n := len(imp.calls()); n != 2 {
		t.Errorf("%d imports, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(s.layerDir(id), "Files")); err != nil {
		t.Errorf("layer folder not re-imported: %v", err)
	}
}
