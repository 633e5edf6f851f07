package hcs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"go.uber.org/zap"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

// imagePuller resolves image references against their registry.
type imagePuller struct {
	keychain authn.Keychain
	// transport is the HTTP transport; nil means remote's default.
	transport http.RoundTripper
	// retries bounds go-containerregistry's own retries of temporary
	// registry failures within one call (the executor retries the whole
	// create on driver.ErrTransient as well).
	retries remote.Backoff
	logger  *zap.Logger
}

// defaultRegistryRetries retries a temporary registry failure twice within
// a few seconds before the call reports driver.ErrTransient.
var defaultRegistryRetries = remote.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 3}

// pulledImage is an image chosen for a host, not yet imported.
type pulledImage struct {
	// Ref is the reference as the manifest names it.
	Ref string
	// Digest is the digest of the chosen image manifest.
	Digest  v1.Hash
	Image   v1.Image
	Config  v1.Config
	Version spec.ImageVersion
}

// resolve fetches ref's manifest (following an index to the entry that
// suits host and iso, see selectManifest), reads the image's configuration,
// and checks the image's own os.version with spec.CheckCompatibility;
// guess (from the tag or spec.osVersion) is used only when the image states
// no version. It blocks on the registry until ctx is done.
//
// Errors: driver.ErrIncompatible when no entry or the image itself cannot
// run here, driver.ErrTransient for registry failures worth retrying
// (timeouts, 5xx, 429, connection errors), otherwise permanent (bad
// reference, unauthorized, not found). Credentials never appear in errors.
func (p *imagePuller) resolve(ctx context.Context, ref string, host spec.Host, iso spec.Isolation, guess spec.ImageVersion) (pulledImage, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return pulledImage{}, fmt.Errorf("image %q: %w", ref, err)
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(p.keychain),
		remote.WithRetryBackoff(p.retries),
	}
	if p.transport != nil {
		opts = append(opts, remote.WithTransport(p.transport))
	}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return pulledImage{}, registryError("get manifest of "+ref, err)
	}
	var (
		img     v1.Image
		version spec.ImageVersion
	)
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return pulledImage{}, registryError("read index of "+ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return pulledImage{}, registryError("read index of "+ref, err)
		}
		entry, v, err := selectManifest(im.Manifests, host, iso)
		if err != nil {
			return pulledImage{}, fmt.Errorf("image %s: %w", ref, err)
		}
		p.logger.Info("image platform chosen", zap.String("image", ref),
			zap.String("digest", entry.Digest.String()), zap.String("osVersion", entry.Platform.OSVersion))
		if img, err = idx.Image(entry.Digest); err != nil {
			return pulledImage{}, registryError("get manifest of "+ref, err)
		}
		version = v
	} else if img, err = desc.Image(); err != nil {
		return pulledImage{}, registryError("read manifest of "+ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return pulledImage{}, registryError("read config of "+ref, err)
	}
	if cf.OS != "windows" || cf.Architecture != "amd64" {
		return pulledImage{}, fmt.Errorf("image %s is for %s/%s; this host runs windows/amd64 images: %w",
			ref, cf.OS, cf.Architecture, driver.ErrIncompatible)
	}
	if v, err := spec.ParseOSVersion(cf.OSVersion); err == nil {
		version = spec.ImageVersion{OSVersion: v, Known: true, From: fromImageOSVersion}
	} else if !version.Known {
		version = guess
	}
	if c := spec.CheckCompatibility(host, version, iso); c.Verdict == spec.Incompatible {
		return pulledImage{}, fmt.Errorf("image %s: %s: %w", ref, c.Message, driver.ErrIncompatible)
	} else if c.Verdict == spec.CompatibleWithWarning && version.From == fromImageOSVersion {
		// The image's own os.version may say more than its tag did: a
		// newer revision than the host's (0xc0370106 at start).
		p.logger.Warn("image may fail to start here", zap.String("image", ref), zap.String("warning", c.Message))
	}
	digest, err := img.Digest()
	if err != nil {
		return pulledImage{}, registryError("digest of "+ref, err)
	}
	return pulledImage{Ref: ref, Digest: digest, Image: img, Config: cf.Config, Version: version}, nil
}

// registryError classifies a registry failure: what a retry may fix wraps
// driver.ErrTransient; context errors stay as they are.
func registryError(op string, err error) error {
	var terr *transport.Error
	var nerr net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case errors.As(err, &terr):
		if terr.Temporary() {
			return fmt.Errorf("%s: %w: %v", op, driver.ErrTransient, err)
		}
		return fmt.Errorf("%s: %v", op, err)
	case errors.As(err, &nerr):
		return fmt.Errorf("%s: %w: %v", op, driver.ErrTransient, err)
	}
	return fmt.Errorf("%s: %v", op, err)
}
