//go:build windows

package hcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	winio "github.com/Microsoft/go-winio"
	winiofs "github.com/Microsoft/go-winio/pkg/fs"
	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/pkg/ociwclayer"
)

// wclayerImporter imports layers with hcsshim's ociwclayer, which needs the
// privileges importPrivileges lists (the agent runs as Administrator).
type wclayerImporter struct{}

func (wclayerImporter) Import(ctx context.Context, dir string, parents []string, r io.Reader) (int64, error) {
	var n int64
	err := winio.RunWithPrivileges(importPrivileges, func() error {
		var err error
		n, err = ociwclayer.ImportLayerFromTar(ctx, r, dir, parents)
		return err
	})
	return n, err
}

func (wclayerImporter) Destroy(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return destroyLayer(dir)
}

// destroyLayer deletes a layer folder with hcsshim.DestroyLayer under
// destroyPrivileges.
func destroyLayer(dir string) error {
	return winio.RunWithPrivileges(destroyPrivileges, func() error {
		return hcsshim.DestroyLayer(driverInfo(dir), filepath.Base(dir))
	})
}

// checkDataDir refuses a data directory on a volume the layer store does
// not support (checkDataDirFilesystem). The directory need not exist yet:
// the file system is that of its drive.
func checkDataDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("hcs driver: data directory %s: %w", dir, err)
	}
	fsType, err := winiofs.GetFileSystemType(abs)
	if err != nil {
		return fmt.Errorf("hcs driver: data directory %s: file system type (it must be on a local drive, e.g. C:\\...): %w", abs, err)
	}
	return checkDataDirFilesystem(abs, fsType)
}

// driverInfo addresses a layer folder the way hcsshim's legacy layer API
// wants: its parent folder and its name.
func driverInfo(dir string) hcsshim.DriverInfo {
	return hcsshim.DriverInfo{HomeDir: filepath.Dir(dir)}
}

// createScratch creates the scratch layer of a container on top of parents
// (nearest first), expanded to size bytes (see scratchExpansion). For
// process isolation it also activates and prepares it and returns its
// volume path (\\?\Volume{GUID}, no trailing slash).
func createScratch(dir string, parents []string, process bool, size uint64) (volume string, err error) {
	info, id := driverInfo(dir), filepath.Base(dir)
	if err := hcsshim.CreateScratchLayer(info, id, "", parents); err != nil {
		return "", fmt.Errorf("create scratch layer: %w", err)
	}
	if size, expand := scratchExpansion(size); expand {
		if err := hcsshim.ExpandScratchSize(info, id, size); err != nil {
			return "", fmt.Errorf("expand scratch layer to %d bytes: %w", size, err)
		}
	}
	if !process {
		return "", nil
	}
	if err := hcsshim.ActivateLayer(info, id); err != nil {
		return "", fmt.Errorf("activate scratch layer: %w", err)
	}
	if err := hcsshim.PrepareLayer(info, id, parents); err != nil {
		return "", fmt.Errorf("prepare scratch layer: %w", err)
	}
	volume, err = hcsshim.GetLayerMountPath(info, id)
	if err != nil {
		return "", fmt.Errorf("scratch volume: %w", err)
	}
	return trimVolumePath(volume), nil
}

// destroyScratch undoes createScratch; each step tolerates the previous
// state (never prepared, already gone).
func destroyScratch(dir string, activated bool) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	info, id := driverInfo(dir), filepath.Base(dir)
	var errs []error
	if activated {
		if err := hcsshim.UnprepareLayer(info, id); err != nil {
			errs = append(errs, fmt.Errorf("unprepare scratch layer: %w", err))
		}
		if err := hcsshim.DeactivateLayer(info, id); err != nil {
			errs = append(errs, fmt.Errorf("deactivate scratch layer: %w", err))
		}
	}
	if err := destroyLayer(dir); err != nil {
		// Unprepare/deactivate failures only matter if the folder stays.
		return errors.Join(append(errs, fmt.Errorf("destroy scratch layer: %w", err))...)
	}
	return nil
}

// layerEntries gives each parent folder its HCS layer ID, the GUID
// hcsshim.NameToGuid derives from the folder name.
func layerEntries(parents []string) ([]layerEntry, error) {
	out := make([]layerEntry, 0, len(parents))
	for _, p := range parents {
		g, err := hcsshim.NameToGuid(filepath.Base(p))
		if err != nil {
			return nil, fmt.Errorf("layer id of %s: %w", p, err)
		}
		out = append(out, layerEntry{ID: g.ToString(), Path: p})
	}
	return out, nil
}
