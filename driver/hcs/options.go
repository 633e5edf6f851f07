package hcs

import (
	"errors"
	"time"

	"go.uber.org/zap"
)

// DefaultOwner is the HCS owner string of the agent's compute systems.
const DefaultOwner = "reconciler"

// DefaultStopTimeout bounds a graceful shutdown when Options and the caller
// give no grace period.
const DefaultStopTimeout = 30 * time.Second

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
	return o, nil
}
