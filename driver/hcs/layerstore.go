package hcs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/internal/atomicfile"
	"github.com/reconciler/reconciler/spec"
)

// layerRetention is how long an imported layer no container uses is kept
// before garbage collection deletes it, so that a recreate (remove, then
// create from the same image) does not download gigabytes again.
const layerRetention = time.Hour

// progressInterval is how often a layer import logs its progress.
const progressInterval = 5 * time.Second

// layerImporter writes image layers into layer folders; on Windows through
// hcsshim's ociwclayer/wclayer functions, in Linux tests by extracting
// files.
type layerImporter interface {
	// Import extracts the uncompressed layer tar r into dir. parents are
	// the folders of the layers below it, nearest parent first and the
	// base layer last (none for a base layer). It returns the size of the
	// layer's files.
	Import(ctx context.Context, dir string, parents []string, r io.Reader) (int64, error)
	// Destroy deletes a layer folder; a folder that does not exist is not
	// an error.
	Destroy(dir string) error
}

// layerMarker is written next to a layer folder once its import completed:
// a folder without one is a failed import and is redone.
type layerMarker struct {
	ChainID  string    `json:"chainID"`
	DiffID   string    `json:"diffID"`
	Digest   string    `json:"digest"`
	Size     int64     `json:"size"`
	Imported time.Time `json:"imported"`
	LastUsed time.Time `json:"lastUsed"`
}

// systemRecord is what the driver remembers of a compute system it created:
// what to clean up when removing it, which layers it uses and the request
// it was made with. It never decides anything the live host can answer; it
// only adds detail (image, creation time), lists the resources to release
// and lets a failed recreate restore the previous spec (see request).
type systemRecord struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Owner       string `json:"owner,omitempty"`
	SpecHash    string `json:"specHash,omitempty"`
	Image       string `json:"image"`
	ImageDigest string `json:"imageDigest"`
	OSVersion   string `json:"osVersion,omitempty"`
	// HostOS is the host's version (10.0.BUILD.REVISION) at create; empty
	// in records written before it was kept.
	HostOS    string         `json:"hostOS,omitempty"`
	Isolation spec.Isolation `json:"isolation"`
	// Spec is the spec the system was created with; nil in records written
	// before the driver kept it. It holds env values, as the compute
	// system's own document does: the data directory must be readable by
	// the agent's account only (on Windows its ACL decides).
	Spec *spec.ContainerSpec `json:"spec,omitempty"`
	// Layers are the chain IDs (hex) of the image's layers, base first.
	Layers []string `json:"layers"`
	// Scratch is the scratch layer folder.
	Scratch string `json:"scratch"`
	// Activated is true once the scratch layer was activated and prepared
	// (process isolation).
	Activated bool `json:"activated,omitempty"`
	// Endpoint is the HNS endpoint the driver created, if any.
	Endpoint string `json:"endpoint,omitempty"`
	// PID is the main process's ID inside the container.
	PID     uint32    `json:"pid,omitempty"`
	Created time.Time `json:"created"`
}

// layerStore keeps, under the data directory:
//
//	layers/<chain id>/       imported read-only layer folders
//	layers/<chain id>.json   their markers (layerMarker)
//	scratch/<system id>/     scratch layers of compute systems
//	systems/<system id>.json what the driver created (systemRecord)
//
// Layers are content-addressed by chain ID (the layer and everything below
// it), so an image sharing a base with another reuses it. Methods that
// change the store must run inside withLock, which serialises them within
// this process (a mutex) and across processes (a lock file).
type layerStore struct {
	root     string
	importer layerImporter
	logger   *zap.Logger
	now      func() time.Time
	// sem is the in-process lock: a one-slot semaphore, so waiting for it
	// can be cancelled.
	sem      chan struct{}
	fileLock *flock.Flock
}

// newLayerStore creates the store's folders under root.
func newLayerStore(root string, importer layerImporter, logger *zap.Logger) (*layerStore, error) {
	for _, d := range []string{"layers", "scratch", "systems"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("layer store: %w", err)
		}
	}
	return &layerStore{
		root:     root,
		importer: importer,
		logger:   logger,
		now:      time.Now,
		sem:      make(chan struct{}, 1),
		fileLock: flock.New(filepath.Join(root, "store.lock")),
	}, nil
}

// withLock runs fn holding the store's lock; it waits for the lock until
// ctx is done (then the error wraps ctx's).
func (s *layerStore) withLock(ctx context.Context, fn func() error) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("layer store lock: %w", ctx.Err())
	}
	defer func() { <-s.sem }()
	ok, err := s.fileLock.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil {
		return fmt.Errorf("layer store lock: %w", err)
	}
	if !ok {
		return fmt.Errorf("layer store lock: %w", ctx.Err())
	}
	defer func() {
		if err := s.fileLock.Unlock(); err != nil {
			s.logger.Warn("layer store unlock failed", zap.Error(err))
		}
	}()
	return fn()
}

func (s *layerStore) layerDir(chainID string) string {
	return filepath.Join(s.root, "layers", chainID)
}

func (s *layerStore) markerPath(chainID string) string {
	return filepath.Join(s.root, "layers", chainID+".json")
}

// scratchDir is the scratch layer folder of a compute system.
func (s *layerStore) scratchDir(id string) string {
	return filepath.Join(s.root, "scratch", id)
}

func (s *layerStore) recordPath(id string) string {
	return filepath.Join(s.root, "systems", id+".json")
}

// chainIDs computes the chain ID of each layer from the diff IDs, base
// first: the base's chain ID is its diff ID, every other one is the
// sha256 of "<parent chain id> <diff id>" (the OCI image spec's ChainID).
func chainIDs(diffIDs []v1.Hash) []v1.Hash {
	out := make([]v1.Hash, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1].String() + " " + d.String()))
		out[i] = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	}
	return out
}

// parentsOf returns the folders below layer i of dirs (base first), nearest
// parent first and the base last, the order wclayer and HCS want.
func parentsOf(dirs []string, i int) []string {
	out := make([]string, 0, i)
	for j := i - 1; j >= 0; j-- {
		out = append(out, dirs[j])
	}
	return out
}

// ensureLayers makes every layer of img present in the store, importing
// the missing ones (a folder without a marker is destroyed and imported
// again), and returns the layer folders and chain IDs, base first. The
// caller holds the lock (withLock). progress is told of each layer's
// extraction. Blocks on the registry and the importer until ctx is done.
func (s *layerStore) ensureLayers(ctx context.Context, img pulledImage, progress func(layer, layers int, n int64, final bool)) (dirs, chain []string, err error) {
	layers, err := img.Image.Layers()
	if err != nil {
		return nil, nil, registryError("layers of "+img.Ref, err)
	}
	diffIDs := make([]v1.Hash, len(layers))
	for i, l := range layers {
		if diffIDs[i], err = l.DiffID(); err != nil {
			return nil, nil, registryError("layers of "+img.Ref, err)
		}
	}
	ids := chainIDs(diffIDs)
	now := s.now()
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("layers of %s: %w", img.Ref, err)
		}
		id := ids[i].Hex
		dir := s.layerDir(id)
		dirs = append(dirs, dir)
		chain = append(chain, id)
		m, ok, err := s.readMarker(id)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			// A marker whose folder is gone (a collection that set the
			// folder aside but could not delete the marker) is no layer.
			_, err := os.Stat(dir)
			ok = err == nil
		}
		if ok {
			m.LastUsed = now
			if err := writeJSONFile(s.markerPath(id), m); err != nil {
				return nil, nil, err
			}
			s.logger.Debug("layer present", zap.String("image", img.Ref), zap.String("chainID", id))
			continue
		}
		if err := s.importLayer(ctx, img.Ref, l, i, len(layers), diffIDs[i], id, parentsOf(dirs, i), progress); err != nil {
			return nil, nil, err
		}
	}
	return dirs, chain, nil
}

// importLayer imports layer l (index i of n) into its folder and writes its
// marker. A failed import leaves nothing behind.
func (s *layerStore) importLayer(ctx context.Context, ref string, l v1.Layer, i, n int, diffID v1.Hash, chainID string, parents []string,
	progress func(layer, layers int, n int64, final bool)) error {
	dir := s.layerDir(chainID)
	if err := s.importer.Destroy(dir); err != nil {
		return fmt.Errorf("remove incomplete layer %s: %w", chainID, err)
	}
	digest, err := l.Digest()
	if err != nil {
		return registryError("layer of "+ref, err)
	}
	size, _ := l.Size()
	s.logger.Info("importing layer", zap.String("image", ref), zap.Int("layer", i+1), zap.Int("layers", n),
		zap.String("digest", digest.String()), zap.Int64("compressedBytes", size))
	rc, err := l.Uncompressed()
	if err != nil {
		return registryError("download layer "+digest.String(), err)
	}
	defer rc.Close()
	pr := newProgressReader(rc, progressInterval, s.now, func(b int64, final bool) { progress(i+1, n, b, final) })
	written, err := s.importer.Import(ctx, dir, parents, pr)
	if err != nil {
		if derr := s.importer.Destroy(dir); derr != nil {
			s.logger.Warn("removing failed layer import failed", zap.String("dir", dir), zap.Error(derr))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("import layer %s: %w", digest, ctx.Err())
		}
		return registryError("import layer "+digest.String(), err)
	}
	now := s.now()
	return writeJSONFile(s.markerPath(chainID), layerMarker{
		ChainID: chainID, DiffID: diffID.String(), Digest: digest.String(), Size: written, Imported: now, LastUsed: now,
	})
}

func (s *layerStore) readMarker(chainID string) (layerMarker, bool, error) {
	var m layerMarker
	ok, err := readJSONFile(s.markerPath(chainID), &m)
	return m, ok, err
}

// markers lists the markers of the imported layers.
func (s *layerStore) markers() ([]layerMarker, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "layers"))
	if err != nil {
		return nil, fmt.Errorf("layer store: %w", err)
	}
	var out []layerMarker
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		m, ok, err := s.readMarker(id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// writeRecord saves what the driver knows of a compute system it created.
func (s *layerStore) writeRecord(r systemRecord) error {
	return writeJSONFile(s.recordPath(r.ID), r)
}

// readRecord loads a record; ok is false when there is none.
func (s *layerStore) readRecord(id string) (r systemRecord, ok bool, err error) {
	ok, err = readJSONFile(s.recordPath(id), &r)
	return r, ok, err
}

// deleteRecord forgets a compute system; a missing record is not an error.
func (s *layerStore) deleteRecord(id string) error {
	if err := os.Remove(s.recordPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("layer store: %w", err)
	}
	return nil
}

// records loads every record, by ID.
func (s *layerStore) records() (map[string]systemRecord, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "systems"))
	if err != nil {
		return nil, fmt.Errorf("layer store: %w", err)
	}
	out := make(map[string]systemRecord, len(entries))
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		r, ok, err := s.readRecord(id)
		if err != nil {
			return nil, err
		}
		if ok {
			out[id] = r
		}
	}
	return out, nil
}

// unusedLayers returns the chain IDs of the layers no record uses and that
// have not been used for retention, sorted.
func unusedLayers(markers []layerMarker, records map[string]systemRecord, now time.Time, retention time.Duration) []string {
	inUse := make(map[string]bool)
	for _, r := range records {
		for _, l := range r.Layers {
			inUse[l] = true
		}
	}
	var out []string
	for _, m := range markers {
		if !inUse[m.ChainID] && now.Sub(m.LastUsed) >= retention {
			out = append(out, m.ChainID)
		}
	}
	sort.Strings(out)
	return out
}

// removingSuffix marks a layer folder being deleted: garbage collection
// renames layers/<chain id> to layers/<chain id>-removing before it
// destroys it, so the chain ID's own folder is free at once and a destroy
// that fails (a folder still held open) never stands in the way of the
// layer's re-import. moby's windowsfilter driver does the same (Remove:
// rename to "<id>-removing", then hcsshim.DestroyLayer; leftovers swept at
// start-up), as does containerd's Windows snapshotter ("rm-<id>" folders).
const removingSuffix = "-removing"

func (s *layerStore) removingDir(chainID string) string {
	return s.layerDir(chainID) + removingSuffix
}

// collectGarbage deletes the layers unusedLayers names: each folder is
// renamed aside (removingDir), then its marker is deleted, then the
// renamed folder is destroyed. A layer whose folder cannot be renamed keeps
// its marker and stays usable; one whose renamed folder cannot be
// destroyed is gone from the store all the same and its leftover is swept
// by the next collection (sweepRemoving), which first retries the
// leftovers of earlier ones. It returns the chain IDs removed from the
// store; failures are logged and left for the next collection.
func (s *layerStore) collectGarbage(ctx context.Context) ([]string, error) {
	var removed []string
	err := s.withLock(ctx, func() error {
		s.sweepRemoving()
		markers, err := s.markers()
		if err != nil {
			return err
		}
		records, err := s.records()
		if err != nil {
			return err
		}
		for _, id := range unusedLayers(markers, records, s.now(), layerRetention) {
			if err := s.removeLayer(id); err != nil {
				s.logger.Warn("layer garbage collection failed", zap.String("chainID", id), zap.Error(err))
				continue
			}
			removed = append(removed, id)
		}
		return nil
	})
	if len(removed) > 0 {
		s.logger.Info("unused layers removed", zap.Strings("chainIDs", removed))
	}
	return removed, err
}

// removeLayer takes one layer out of the store (see collectGarbage). The
// error is nil once the chain ID is free for a new import, even when the
// renamed folder is left for sweepRemoving.
func (s *layerStore) removeLayer(id string) error {
	aside := s.removingDir(id)
	if err := os.Rename(s.layerDir(id), aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("set layer aside: %w", err)
	}
	if err := os.Remove(s.markerPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// The folder is gone from its place, so ensureLayers re-imports
		// the layer whatever the marker says; the next collection retries.
		return fmt.Errorf("layer marker: %w", err)
	}
	if err := s.importer.Destroy(aside); err != nil {
		s.logger.Warn("layer folder left for a later sweep", zap.String("dir", aside), zap.Error(err))
	}
	return nil
}

// sweepRemoving destroys the folders earlier collections set aside but
// could not destroy (or a crash interrupted); one that still will not go is
// logged and retried next time. It returns the folders destroyed.
func (s *layerStore) sweepRemoving() []string {
	entries, err := os.ReadDir(filepath.Join(s.root, "layers"))
	if err != nil {
		s.logger.Warn("layer sweep failed", zap.Error(err))
		return nil
	}
	var swept []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), removingSuffix) {
			continue
		}
		dir := filepath.Join(s.root, "layers", e.Name())
		if err := s.importer.Destroy(dir); err != nil {
			s.logger.Warn("layer folder still cannot be removed", zap.String("dir", dir), zap.Error(err))
			continue
		}
		swept = append(swept, e.Name())
	}
	if len(swept) > 0 {
		s.logger.Info("leftover layer folders removed", zap.Strings("dirs", swept))
	}
	return swept
}

// staleRecords returns the IDs of records whose compute system the live
// host no longer has (a host reboot, someone else's removal) and that are
// older than grace, so a create in flight is never mistaken for one.
func staleRecords(records map[string]systemRecord, live map[string]bool, now time.Time, grace time.Duration) []string {
	var out []string
	for id, r := range records {
		if !live[id] && now.Sub(r.Created) >= grace {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// writeJSONFile replaces path with v as JSON, crash-safe (fsync'd, renamed
// into place, folder fsync'd): the records name scratch layers and
// endpoints to release, so a crash must leave the old record or the new.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("layer store: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("layer store: write %s: %w", path, err)
	}
	return nil
}

// readJSONFile reads path into v; ok is false when the file does not exist.
func readJSONFile(path string, v any) (ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("layer store: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("layer store: %s: %w", path, err)
	}
	return true, nil
}
