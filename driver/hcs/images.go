package hcs

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// imageFetcher pulls images and imports their layers into the layer store:
// the part of Create that comes before anything is created, which
// PrepareImage runs on its own so that a recreate fetches the new image
// before it stops the old container.
type imageFetcher struct {
	puller *imagePuller
	store  *layerStore
	pulls  *pullTracker
}

// prepare resolves req's image for host (see imagePuller.resolve: the
// image's own os.version is checked against host and req.Isolation) and
// imports its missing layers. Blocks on the registry and the importer
// until ctx is done; errors as resolve's and ensureLayers'.
func (f *imageFetcher) prepare(ctx context.Context, req driver.CreateRequest, host spec.Host, log *zap.Logger) error {
	started := f.store.now()
	img, err := f.puller.resolve(ctx, req.Spec.Image, host, req.Isolation, req.ImageVersion)
	if err != nil {
		return err
	}
	return f.importLayers(ctx, img, started, log, nil)
}

// importLayers imports img's missing layers holding the store's lock,
// reporting progress to the pull tracker and to log (the pull started at
// started). Then, still holding the lock, it calls then, when not nil,
// with the layer folders and chain IDs, base first: Create writes its
// record there, so garbage collection never sees the layers unused.
func (f *imageFetcher) importLayers(ctx context.Context, img pulledImage, started time.Time, log *zap.Logger,
	then func(dirs, chain []string) error) error {
	return f.store.withLock(ctx, func() error {
		defer f.pulls.done(img.Ref)
		dirs, chain, err := f.store.ensureLayers(ctx, img, func(layer, layers int, n int64, final bool) {
			f.pulls.update(img.Ref, started, layer, layers, n)
			log.Info("pull progress", zap.String("image", img.Ref), zap.Int("layer", layer),
				zap.Int("layers", layers), zap.Int64("bytes", n), zap.Bool("layerDone", final))
		})
		if err != nil || then == nil {
			return err
		}
		return then(dirs, chain)
	})
}
