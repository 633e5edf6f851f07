//go:build windows

package hcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"

	"github.com/reconciler/reconciler/driver"
	"github.com/reconciler/reconciler/spec"
)

var _ driver.HealthChecker = (*Driver)(nil)

// CheckHealth runs hc once against the compute system with this ID: an
// exec check as a process created inside the compute system (healthy on
// exit code 0), a tcp or http check from the host to the container's
// endpoint address, else to its published host port on loopback (see
// healthTargets, probeTCP, probeHTTP). A system that is not running fails
// with driver.ErrUnhealthy; one that does not exist gives
// driver.ErrNotFound. ctx bounds the check: an exec check still running
// when ctx ends is killed. See driver.HealthChecker.
func (d *Driver) CheckHealth(ctx context.Context, id string, hc spec.Healthcheck) error {
	check := driver.DescribeCheck(hc)
	if !hc.Defined() {
		return fmt.Errorf("check health of %s: no health check defined", id)
	}
	err := d.checkHealth(ctx, id, hc)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", check, id, err)
	}
	return nil
}

func (d *Driver) checkHealth(ctx context.Context, id string, hc spec.Healthcheck) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := enumerateComputeSystems(computeSystemQuery{IDs: []string{id}})
	if err != nil {
		return err
	}
	systems, err := parseComputeSystems(raw, nil)
	if err != nil {
		return err
	}
	if len(systems) != 1 || systems[0].ID != id {
		return driver.ErrNotFound
	}
	if systems[0].State != driver.StateRunning {
		return fmt.Errorf("%w: container is not running (%s)", driver.ErrUnhealthy, systems[0].State)
	}
	rec, _, err := d.store.readRecord(id)
	if err != nil {
		return err
	}
	if len(hc.Exec) > 0 {
		return execCheck(ctx, id, execHealthProcess(rec.Spec, hc.Exec))
	}
	port := hc.TCP
	if port == 0 {
		port = hc.HTTP.Port
	}
	var ports []spec.Port
	if rec.Spec != nil {
		ports = rec.Spec.Ports
	}
	targets, err := healthTargets(endpointIP(rec), ports, port)
	if err != nil {
		return err
	}
	if hc.TCP != 0 {
		return probeTCP(ctx, targets)
	}
	return probeHTTP(ctx, targets, hc.HTTP.Path)
}

// execCheck runs proc inside the compute system id and judges its exit
// (execVerdict). A process that cannot be started in a running system is
// a failed check, as for docker; a system gone meanwhile is
// driver.ErrNotFound.
func execCheck(ctx context.Context, id string, proc processConfig) error {
	c, err := hcsshim.OpenContainer(id)
	if err != nil {
		return mapError("open compute system", err)
	}
	defer c.Close()
	pc, err := toHCS[hcsshim.ProcessConfig](proc)
	if err != nil {
		return fmt.Errorf("process document: %w", err)
	}
	p, err := c.CreateProcess(pc)
	if err != nil {
		if err := mapError("start health check process", err); errors.Is(err, driver.ErrNotFound) {
			return err
		}
		return fmt.Errorf("%w: could not start the command: %v", driver.ErrUnhealthy, err)
	}
	defer p.Close()
	out := &boundedBuffer{max: maxHealthOutput}
	var readers sync.WaitGroup
	if _, stdout, stderr, err := p.Stdio(); err == nil {
		for _, r := range []io.ReadCloser{stdout, stderr} {
			if r != nil {
				readers.Go(func() { _, _ = io.Copy(out, r) })
			}
		}
	}
	waited := make(chan error, 1)
	go func() { waited <- p.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = p.Kill() // and Close, deferred, ends the Wait and the readers
		return ctx.Err()
	}
	if err != nil {
		return mapError("wait for health check process", err)
	}
	code, err := p.ExitCode()
	if err != nil {
		return mapError("health check exit code", err)
	}
	// The pipes close with the process, unless a process it started holds
	// them: ctx bounds that wait, and the output then is what came.
	read := make(chan struct{})
	go func() { readers.Wait(); close(read) }()
	select {
	case <-read:
	case <-ctx.Done():
	}
	return execVerdict(code, out.Bytes())
}

// endpointIP is the IP address of the container's network endpoint: the
// one the driver created for it, else the first of the namespace it
// joined; "" when it has none or HNS does not say.
func endpointIP(rec systemRecord) string {
	if rec.Endpoint != "" {
		if ep, err := hcsshim.GetHNSEndpointByID(rec.Endpoint); err == nil && ep.IPAddress != nil {
			return ep.IPAddress.String()
		}
		return ""
	}
	if rec.Spec == nil || rec.Spec.Network.Namespace == "" {
		return ""
	}
	ids, err := hcn.GetNamespaceEndpointIds(rec.Spec.Network.Namespace)
	if err != nil {
		return ""
	}
	for _, id := range ids {
		if ep, err := hcsshim.GetHNSEndpointByID(id); err == nil && ep.IPAddress != nil {
			return ep.IPAddress.String()
		}
	}
	return ""
}
