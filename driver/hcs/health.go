package hcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/internal/wincmd"
	"github.com/reconciler/reconciler/spec"
)

// Health checks, the parts that are not syscalls: the process an exec
// check runs and how its exit is judged, the addresses a tcp or http check
// tries, and the probes themselves (plain TCP and HTTP from the host).

const (
	// maxHealthOutput bounds what is kept of an exec check's output, as
	// moby's maxOutputLen (daemon/health.go).
	maxHealthOutput = 4096
	// quotedOutputLines is how many lines of that output a failure quotes.
	quotedOutputLines = 3
	// loopback is where a published host port is reached from the host.
	loopback = "127.0.0.1"
)

// execHealthProcess is the process an exec check runs inside a container
// created with spec s (nil when unknown): args as one command line that
// CommandLineToArgvW splits back into them, in the container's working
// directory with its environment (as docker's exec inherits them), and its
// output piped so that a failure can quote it. Unlike moby's CMD-SHELL
// form no shell is added: exec is a list of arguments, and a shell is
// named in it (`cmd /c ...`, `powershell -Command ...`) when wanted.
func execHealthProcess(s *spec.ContainerSpec, args []string) processConfig {
	p := processConfig{
		CommandLine:      wincmd.Join(args),
		WorkingDirectory: defaultWorkingDir,
		CreateStdOutPipe: true,
		CreateStdErrPipe: true,
	}
	if s != nil {
		if s.WorkingDir != "" {
			p.WorkingDirectory = s.WorkingDir
		}
		p.Environment = mergeEnv(nil, s.Env)
	}
	return p
}

// execVerdict judges an exec check that exited with code: 0 is healthy;
// anything else is driver.ErrUnhealthy with the code and the first lines
// of what it printed.
func execVerdict(code int, output []byte) error {
	if code == 0 {
		return nil
	}
	msg := fmt.Sprintf("%v: exit code %d", driver.ErrUnhealthy, code)
	if lines := firstLines(output, quotedOutputLines); lines != "" {
		msg += ": " + lines
	}
	return &unhealthyError{msg: msg}
}

// unhealthyError is a failed check whose message starts with
// driver.ErrUnhealthy's own words, so they are not repeated.
type unhealthyError struct{ msg string }

func (e *unhealthyError) Error() string { return e.msg }
func (e *unhealthyError) Unwrap() error { return driver.ErrUnhealthy }

// firstLines is up to n non-blank lines of out, trimmed and joined with
// " | " (CRLF or LF endings), "…" added when there was more.
func firstLines(out []byte, n int) string {
	var lines []string
	more := false
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(lines) == n {
			more = true
			break
		}
		lines = append(lines, line)
	}
	s := strings.Join(lines, " | ")
	if more {
		s += " …"
	}
	return s
}

// boundedBuffer keeps the first max bytes written to it and discards the
// rest, so a check printing without end cannot grow the agent. Safe for
// concurrent writers (stdout and stderr).
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Bytes returns what was kept.
func (b *boundedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// healthTargets are the addresses, in order, a tcp or http check of
// container port port tries: the container's own address on its network
// (its HNS endpoint's IP, "" when unknown), then the host port that
// publishes port over TCP, on the host's loopback. None is an error that
// says why.
func healthTargets(endpointIP string, ports []spec.Port, port int) ([]string, error) {
	var out []string
	if endpointIP != "" {
		out = append(out, net.JoinHostPort(endpointIP, strconv.Itoa(port)))
	}
	for _, p := range ports {
		if p.ContainerPort == port && p.HostPort != 0 && (p.Protocol == "" || strings.EqualFold(p.Protocol, "tcp")) {
			out = append(out, net.JoinHostPort(loopback, strconv.Itoa(p.HostPort)))
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address to check port %d at: the container has no network endpoint with an address and publishes no host port for it", port)
	}
	return out, nil
}

// dialer connects the tcp and http probes; ctx bounds it.
var dialer = &net.Dialer{}

// probeTCP connects to the targets in turn and is healthy at the first
// that accepts; driver.ErrUnhealthy with every refusal otherwise. ctx's
// error, when it ends the probe, is returned as it is.
func probeTCP(ctx context.Context, targets []string) error {
	var errs []error
	for _, t := range targets {
		conn, err := dialer.DialContext(ctx, "tcp", t)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w: %w", driver.ErrUnhealthy, errors.Join(errs...))
}

// healthClient GETs without a proxy, without keeping connections (a check
// every few seconds of a thousand containers must not hold a thousand
// idle ones) and without following redirects: a 3xx is an answer, and
// healthy.
var healthClient = &http.Client{
	Transport: &http.Transport{
		Proxy:             nil,
		DialContext:       dialer.DialContext,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// probeHTTP GETs path at the targets in turn: the first that answers
// decides (httpVerdict); one that cannot be reached passes to the next.
// None reached is driver.ErrUnhealthy with every failure. ctx's error,
// when it ends the probe, is returned as it is.
func probeHTTP(ctx context.Context, targets []string, path string) error {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	var errs []error
	for _, t := range targets {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t+path, nil)
		if err != nil {
			return fmt.Errorf("health check request: %w", err)
		}
		resp, err := healthClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHealthOutput))
		_ = resp.Body.Close()
		return httpVerdict(t, resp.StatusCode, resp.Status)
	}
	return fmt.Errorf("%w: %w", driver.ErrUnhealthy, errors.Join(errs...))
}

// httpVerdict judges an HTTP answer from target: 2xx and 3xx are healthy,
// anything else driver.ErrUnhealthy with the status.
func httpVerdict(target string, code int, status string) error {
	if code >= 200 && code < 400 {
		return nil
	}
	if status == "" {
		status = strconv.Itoa(code)
	}
	return fmt.Errorf("%w: %s answered HTTP %s", driver.ErrUnhealthy, target, status)
}
