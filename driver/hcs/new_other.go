//go:build !windows

package hcs

import (
	"context"
	"errors"
)

// ErrUnsupportedOS is returned by New off Windows.
var ErrUnsupportedOS = errors.New("the hcs driver needs a Windows host with the Containers feature; " + withoutHCSHint)

// Driver is the HCS driver. Off Windows it cannot be opened.
type Driver struct{}

// New fails off Windows with ErrUnsupportedOS (after checking opts, so a
// configuration mistake is reported the same way on every OS).
func New(_ context.Context, opts Options) (*Driver, error) {
	if _, err := opts.withDefaults(); err != nil {
		return nil, err
	}
	return nil, ErrUnsupportedOS
}
