package statusapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Endpoint is where the API listens, or where a client finds it.
type Endpoint struct {
	// Network is "tcp", "unix" (a Unix socket) or "npipe" (a Windows
	// named pipe).
	Network string
	// Address is host:port, the socket's path or the pipe's name
	// (\\.\pipe\NAME).
	Address string
}

// ErrListen is a --listen or --agent address that cannot be used.
var ErrListen = errors.New("bad API address")

// ParseListen reads an API address: "host:port" (TCP; a port alone or
// ":port" is loopback only, 127.0.0.1:port: all interfaces must be asked
// for, "0.0.0.0:port"), "http://host:port", "unix:///path/to.sock" or
// "npipe:////./pipe/NAME" (also written \\.\pipe\NAME).
func ParseListen(addr string) (Endpoint, error) {
	switch {
	case strings.HasPrefix(addr, "unix://"):
		path := strings.TrimPrefix(addr, "unix://")
		if path == "" {
			return Endpoint{}, fmt.Errorf("%w %q: unix:// needs a path, e.g. unix:///run/reconciler.sock", ErrListen, addr)
		}
		return Endpoint{Network: "unix", Address: path}, nil
	case strings.HasPrefix(addr, "npipe://"), strings.HasPrefix(addr, `\\.\pipe\`):
		name := strings.ReplaceAll(strings.TrimPrefix(addr, "npipe:"), "/", `\`)
		name = `\\.\pipe\` + strings.TrimPrefix(strings.TrimLeft(name, `\`), `.\pipe\`)
		if strings.HasSuffix(name, `\pipe\`) {
			return Endpoint{}, fmt.Errorf("%w %q: a named pipe needs a name, e.g. npipe:////./pipe/reconciler", ErrListen, addr)
		}
		return Endpoint{Network: "npipe", Address: name}, nil
	}
	hostport := strings.TrimSuffix(strings.TrimPrefix(addr, "http://"), "/")
	if !strings.Contains(hostport, ":") {
		hostport = ":" + hostport
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "" || strings.Contains(addr, "://") && !strings.HasPrefix(addr, "http://") {
		return Endpoint{}, fmt.Errorf("%w %q: want host:port, unix:///path or npipe:////./pipe/NAME", ErrListen, addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return Endpoint{Network: "tcp", Address: net.JoinHostPort(host, port)}, nil
}

// OwnerOnly reports whether only the owner of the listening process (and
// the host's administrators) can reach the endpoint: a Unix socket or a
// named pipe, which the agent creates so.
func (e Endpoint) OwnerOnly() bool { return e.Network != "tcp" }

// Loopback reports whether the endpoint is reachable from this host only.
func (e Endpoint) Loopback() bool {
	if e.Network != "tcp" {
		return true
	}
	host, _, _ := net.SplitHostPort(e.Address)
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// display is how the log names the address listened on: host:port (the
// port chosen, for port 0), unix:///path or npipe:////./pipe/NAME, as
// ParseListen and the CLI's --agent take them.
func (e Endpoint) display(a net.Addr) string {
	switch e.Network {
	case "unix":
		return "unix://" + e.Address
	case "npipe":
		return "npipe://" + strings.ReplaceAll(e.Address, `\`, "/")
	}
	return a.String()
}

// NewClient returns an HTTP client of the agent at addr (as ParseListen
// reads it) and the base URL of its API. The client sends token, if set,
// with every request, and gives up after timeout.
func NewClient(addr string, token []byte, timeout time.Duration) (*http.Client, string, error) {
	ep, err := ParseListen(addr)
	if err != nil {
		return nil, "", err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	base := "http://" + ep.Address
	if ep.Network != "tcp" {
		base = "http://reconciler"
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) { return ep.dial(ctx) }
	}
	var rt http.RoundTripper = tr
	if token != nil {
		rt = bearer{token: string(token), next: tr}
	}
	return &http.Client{Transport: rt, Timeout: timeout}, base, nil
}

// bearer adds the API token to each request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(TokenHeader, "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
