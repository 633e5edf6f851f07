//go:build windows

package main

import (
	"context"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/driver/hcs"
)

// openHCS opens the real HCS driver.
func openHCS(ctx context.Context, opts hcs.Options) (driver.Driver, func() error, error) {
	d, err := hcs.New(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	return d, d.Close, nil
}
