package hcs

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// DefaultOwner is the HCS owner string of the agent's compute systems.
const DefaultOwner = "reconciler"

// DefaultStopTimeout bounds a graceful shutdown when Options and the caller
// give no grace period.
const DefaultStopTimeout = 30 * time.Second

// DefaultScratchSize is the virtual size, in bytes, every container's
// scratch disk (its C: drive) is expanded to: 127 GB as Windows counts
// (127 × 2^30), the size moby uses (per issue 10) and Hyper-V's own default
// for a new VHDX. The VHDX is dynamic: only what the container writes
// takes room on the host's disk.
const DefaultScratchSize uint64 = 127 << 30

// hcsScratchSize is the size of the scratch disk HCS creates by itself:
// "the C: drive in a Windows container represents a virtual free size of
// 20GB" (Microsoft Learn, Container Storage Overview). A VHDX can grow, not
// shrink, so no smaller size can be asked for.
const hcsScratchSize uint64 = 20 << 30

// Options configure the driver.
type Options struct {
	// Owner is written to every compute system the driver creates and
	// identifies the agent's systems among all of the host's. Default
	// DefaultOwner.
	Owner string
	// DataDir holds the layer store (imported layers, scratch layers and
	// the driver's records). Required.
	DataDir string
	// Logger receives the driver's logs; nil means no logs.
	Logger *zap.Logger
	// RegistryConfig is the path of a docker-style config.json with
	// registry credentials; empty means anonymous pulls. Its content is
	// never logged.
	RegistryConfig string
	// StopTimeout bounds a graceful shutdown when Remove is given no grace
	// period. Default DefaultStopTimeout.
	StopTimeout time.Duration
	// ScratchSize is the virtual size in bytes of each container's scratch
	// disk; at least 20 GB, HCS's own size. Default DefaultScratchSize.
	ScratchSize uint64
	// RecordDir, when set, is a folder where the driver keeps what the host
	// answers: host.json (build, date), lists/ (each distinct compute
	// system list as HCS returned it) and errors.json (each distinct HCS
	// failure: operation, code, text). For test/windows/run.ps1 -Record;
	// empty (the default) records nothing.
	RecordDir string
}

// withDefaults fills in defaults and checks what is required.
func (o Options) withDefaults() (Options, error) {
	if o.DataDir == "" {
		return o, errors.New("hcs driver: a data directory is required")
	}
	if o.Owner == "" {
		o.Owner = DefaultOwner
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.ScratchSize == 0 {
		o.ScratchSize = DefaultScratchSize
	}
	if o.ScratchSize < hcsScratchSize {
		return o, fmt.Errorf("hcs driver: scratch size %d bytes is below the %d bytes (20 GB) HCS creates; a scratch disk cannot shrink",
			o.ScratchSize, hcsScratchSize)
	}
	return o, nil
}

// scratchExpansion is the size to expand a new scratch layer to with
// hcsshim.ExpandScratchSize (moby's windowsfilter driver does it right
// after CreateScratchLayer, before the layer is activated), and whether to
// expand at all: not when the size is HCS's own.
func scratchExpansion(size uint64) (uint64, bool) {
	return size, size > hcsScratchSize
}
