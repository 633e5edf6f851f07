//go:build windows

package statusapi

import (
	"context"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
)

// pipeSDDL is the security descriptor of the agent's named pipe: a
// protected DACL (nothing inherited) granting full access to the pipe's
// owner (OW, OWNER RIGHTS), LocalSystem (SY) and the Administrators (BA)
// only, as internal/atomicfile does for private files.
const pipeSDDL = "D:P(A;;GA;;;OW)(A;;GA;;;SY)(A;;GA;;;BA)"

// listen listens on the endpoint; a named pipe is created owner-only
// (pipeSDDL), which a Unix socket cannot be on Windows, so it is refused.
func (e Endpoint) listen() (net.Listener, error) {
	switch e.Network {
	case "tcp":
		return net.Listen("tcp", e.Address)
	case "unix":
		return nil, fmt.Errorf("%w: on Windows use a named pipe, npipe:////./pipe/NAME", ErrListen)
	}
	return winio.ListenPipe(e.Address, &winio.PipeConfig{SecurityDescriptor: pipeSDDL})
}

// dial connects to the endpoint.
func (e Endpoint) dial(ctx context.Context) (net.Conn, error) {
	if e.Network == "npipe" {
		return winio.DialPipeContext(ctx, e.Address)
	}
	var d net.Dialer
	return d.DialContext(ctx, e.Network, e.Address)
}
