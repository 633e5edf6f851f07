package hcs

import (
	"errors"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

func newTestFetcher(t *testing.T, imp layerImporter) *imageFetcher {
	t.Helper()
	s, _ := newTestStore(t, imp)
	return &imageFetcher{puller: newTestPuller(t), store: s, pulls: newPullTracker()}
}

func TestPrepareImage(t *testing.T) {
	reg := newTestRegistry(t)
	good := reg.push(t, "app:ltsc2022", windowsImage(t, ltsc2022Version, randomLayer(t), randomLayer(t)))
	old := reg.push(t, "app:ltsc2019", windowsImage(t, ltsc2019Version, randomLayer(t)))
	tests := []struct {
		name string
		ref  string
		iso  spec.Isolation
		// wantErr: nil, driver.ErrIncompatible, or errPermanent.
		wantErr     error
		wantImports int
	}{
		{name: "layers are imported", ref: good, iso: spec.IsolationProcess, wantImports: 2},
		{name: "an image the host cannot run is refused before any layer", ref: old, iso: spec.IsolationProcess, wantErr: driver.ErrIncompatible},
		{name: "an older image for hyperv", ref: old, iso: spec.IsolationHyperV, wantImports: 1},
		{name: "an image the registry does not have", ref: reg.host + "/app:missing", iso: spec.IsolationProcess, wantErr: errPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := &dirImporter{}
			f := newTestFetcher(t, imp)
			req := driver.CreateRequest{Name: "web", Isolation: tt.iso, Spec: spec.ContainerSpec{Image: tt.ref}}
			for i := range 2 { // the second prepare finds everything in place
				err := f.prepare(t.Context(), req, server2022, zaptest.NewLogger(t))
				switch {
				case tt.wantErr == nil && err != nil:
					t.Fatalf("prepare #%d: %v", i+1, err)
				case tt.wantErr == errPermanent && (err == nil || errors.Is(err, driver.ErrIncompatible) || errors.Is(err, driver.ErrTransient)):
					t.Fatalf("prepare #%d = %v, want a permanent error", i+1, err)
				case tt.wantErr != nil && tt.wantErr != errPermanent && !errors.Is(err, tt.wantErr):
					t.Fatalf("prepare #%d = %v, want %v", i+1, err, tt.wantErr)
				}
			}
			if got := len(imp.calls()); got != tt.wantImports {
				t.Errorf("%d layer imports over two prepares, want %d (then none)", got, tt.wantImports)
			}
			markers, err := f.store.markers()
			if err != nil || len(markers) != tt.wantImports {
				t.Errorf("%d layer markers (%v), want %d", len(markers), err, tt.wantImports)
			}
			if records, err := f.store.records(); err != nil || len(records) != 0 {
				t.Errorf("prepare wrote records %v (%v); it creates nothing", records, err)
			}
			if pulls := f.pulls.snapshot(); len(pulls) != 0 {
				t.Errorf("pulls in progress after prepare: %v", pulls)
			}
		})
	}
}

// errPermanent stands for "an error of none of driver's classes".
var errPermanent = errors.New("permanent")

func TestImportLayersThenRunsUnderTheLock(t *testing.T) {
	reg := newTestRegistry(t)
	img := pullFrom(t, reg, "app:1", windowsImage(t, ltsc2022Version, randomLayer(t), randomLayer(t)))
	f := newTestFetcher(t, &dirImporter{})
	var gotDirs, gotChain []string
	err := f.importLayers(t.Context(), img, f.store.now(), zaptest.NewLogger(t), func(dirs, chain []string) error {
		gotDirs, gotChain = dirs, chain
		select {
		case f.store.sem <- struct{}{}:
			<-f.store.sem
			return errors.New("the store's lock is free inside then")
		default:
		}
		return errors.New("record not written")
	})
	if err == nil || err.Error() != "record not written" {
		t.Fatalf("importLayers = %v, want then's error", err)
	}
	if len(gotDirs) != 2 || len(gotChain) != 2 {
		t.Errorf("then got %d dirs and %d chain ids, want 2 of each", len(gotDirs), len(gotChain))
	}
}
