//go:build !windows

package main

import (
	"context"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/hcs"
)

// openHCS reports why the HCS driver cannot run here (hcs.New always fails
// off Windows, naming --driver sim instead).
func openHCS(ctx context.Context, opts hcs.Options) (driver.Driver, func() error, error) {
	_, err := hcs.New(ctx, opts)
	return nil, nil, err
}
