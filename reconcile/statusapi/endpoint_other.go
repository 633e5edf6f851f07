//go:build !windows

package statusapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// listen listens on the endpoint. A Unix socket is made owner-only
// before anyone can connect: it is bound in a private folder (0700)
// beside its path, set to 0600, then renamed to its path. A stale socket
// left by a crash is replaced; one that an agent answers on is not.
func (e Endpoint) listen() (net.Listener, error) {
	switch e.Network {
	case "tcp":
		return net.Listen("tcp", e.Address)
	case "npipe":
		return nil, fmt.Errorf("%w: named pipes are Windows only: use unix:///path", ErrListen)
	}
	if c, err := net.DialTimeout("unix", e.Address, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("socket %s is in use by another process", e.Address)
	}
	private, err := os.MkdirTemp(filepath.Dir(e.Address), ".reconciler-sock-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(private)
	tmp := filepath.Join(private, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // its path moves: unixListener removes it
	if err := errors.Join(os.Chmod(tmp, 0o600), os.Rename(tmp, e.Address)); err != nil {
		ln.Close()
		return nil, err
	}
	return unixListener{ul, e.Address}, nil
}

// unixListener removes its socket when closed.
type unixListener struct {
	*net.UnixListener
	path string
}

func (l unixListener) Close() error {
	err := l.UnixListener.Close()
	if rmErr := os.Remove(l.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}

// dial connects to the endpoint.
func (e Endpoint) dial(ctx context.Context) (net.Conn, error) {
	if e.Network == "npipe" {
		return nil, fmt.Errorf("%w: named pipes are Windows only", ErrListen)
	}
	var d net.Dialer
	return d.DialContext(ctx, e.Network, e.Address)
}
