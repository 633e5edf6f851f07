package kube

import (
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/reconciler/reconciler/spec"
)

// env is the container's environment in name order: the manifest's
// values, or references to the keys of its Secret, whose values are then
// never written.
func (e *exporter) env() []EnvVar {
	env := e.c.Spec.Env
	if len(env) == 0 {
		return nil
	}
	secret := e.opt.envSecret(e.c.Metadata.Name)
	out := make([]EnvVar, 0, len(env))
	for _, k := range sortedKeys(env) {
		if secret == "" {
			out = append(out, EnvVar{Name: k, Value: env[k]})
			continue
		}
		if errs := isConfigMapKey(k); len(errs) > 0 {
			e.fail("spec.env."+k, "cannot be a key of secret %q: %s", secret, errs[0])
			continue
		}
		out = append(out, EnvVar{Name: k, ValueFrom: &EnvVarSource{
			SecretKeyRef: &SecretKeySelector{LocalObjectReference: LocalObjectReference{Name: secret}, Key: k},
		}})
	}
	return out
}

// ports are the container's ports; a host port is published only with
// Options.HostPorts, else it is a warning (a Service exposes the port).
func (e *exporter) ports() []ContainerPort {
	ps := e.c.Spec.Ports
	if len(ps) == 0 {
		return nil
	}
	out := make([]ContainerPort, 0, len(ps))
	for i, p := range ps {
		cp := ContainerPort{ContainerPort: int32(p.ContainerPort), Protocol: ProtocolTCP}
		if p.Protocol == "udp" {
			cp.Protocol = ProtocolUDP
		}
		if e.opt.HostPorts {
			cp.HostPort = int32(p.HostPort)
		} else {
			e.warn(fmt.Sprintf("spec.ports[%d].hostPort", i), "%d is not published on the node; expose container port %d with a Service, or export with --host-ports", p.HostPort, p.ContainerPort)
		}
		out = append(out, cp)
	}
	return out
}

// resources are the container's limits, requested as well so that the
// scheduler counts them (Windows nodes do not overcommit well). CPU is
// cpuCount × cpuMaximumPercent; a percent alone is of the whole node,
// which needs Options.NodeCPUs to become a CPU quantity.
func (e *exporter) resources() ResourceRequirements {
	r := e.c.Spec.Resources
	list := ResourceList{}
	percent := r.CPUMaximumPercent
	if percent == 0 {
		percent = 100
	}
	switch {
	case r.CPUCount > 0:
		list[ResourceCPU] = milliCPU(int64(r.CPUCount) * 10 * int64(percent))
	case r.CPUMaximumPercent > 0 && e.opt.NodeCPUs > 0:
		list[ResourceCPU] = milliCPU(int64(e.opt.NodeCPUs) * 10 * int64(percent))
	case r.CPUMaximumPercent > 0:
		e.warn("spec.resources.cpuMaximumPercent", "%d%% of the host's CPUs has no Kubernetes equivalent without the nodes' size; no CPU limit is set: export with --node-cpus N, or state cpuCount", r.CPUMaximumPercent)
	}
	if r.MemoryMB > 0 {
		list[ResourceMemory] = bytesQuantity(int64(r.MemoryMB) << 20)
	}
	if len(list) == 0 {
		return ResourceRequirements{}
	}
	return ResourceRequirements{Limits: list, Requests: maps.Clone(list)}
}

// volumes are the hostPath volumes of the container's mounts and named
// pipes (Kubernetes mounts a host named pipe as a hostPath on Windows).
func (e *exporter) volumes() ([]Volume, []VolumeMount) {
	var (
		vols   []Volume
		mounts []VolumeMount
	)
	add := func(name, host, ctr string, readOnly bool) {
		vols = append(vols, Volume{Name: name, VolumeSource: VolumeSource{HostPath: &HostPathVolumeSource{Path: host}}})
		mounts = append(mounts, VolumeMount{Name: name, MountPath: ctr, ReadOnly: readOnly})
	}
	for i, m := range e.c.Spec.Mounts {
		add(fmt.Sprintf("mount-%d", i), m.HostPath, m.ContainerPath, m.ReadOnly)
	}
	for i, p := range e.c.Spec.NamedPipes {
		add(fmt.Sprintf("pipe-%d", i), p.HostPipe, p.ContainerPipe, false)
	}
	return vols, mounts
}

// probes turn the health check into a readiness probe (the rollout waits
// for it, as the agent's does), a startup probe covering the start period,
// and a liveness probe (Kubernetes restarts an unhealthy container, which
// the agent does not do), each with the check's timing.
func (e *exporter) probes(ctr *Container) {
	h := e.c.Spec.Healthcheck
	if !h.Defined() {
		return
	}
	var handler ProbeHandler
	switch {
	case len(h.Exec) > 0:
		handler.Exec = &ExecAction{Command: h.Exec}
	case h.TCP != 0:
		handler.TCPSocket = &TCPSocketAction{Port: int32(h.TCP)}
	default:
		path := h.HTTP.Path
		if path == "" {
			path = "/"
		}
		handler.HTTPGet = &HTTPGetAction{Path: path, Port: int32(h.HTTP.Port)}
	}
	t := h.Timing()
	period := e.seconds("spec.healthcheck.interval", t.Interval)
	probe := Probe{
		ProbeHandler:     handler,
		PeriodSeconds:    period,
		TimeoutSeconds:   e.seconds("spec.healthcheck.timeout", t.Timeout),
		FailureThreshold: int32(t.Retries),
	}
	ready := probe
	ctr.ReadinessProbe = &ready
	live := probe
	ctr.LivenessProbe = &live
	if t.StartPeriod > 0 {
		start := probe
		// Failures during the start period do not count, then Retries do.
		start.FailureThreshold = int32(math.Ceil(t.StartPeriod.Seconds()/float64(period))) + int32(t.Retries)
		ctr.StartupProbe = &start
	}
}

// seconds is d in whole seconds, at least 1; a fraction is rounded up
// with a warning naming field.
func (e *exporter) seconds(field string, d time.Duration) int32 {
	s := int32(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	if time.Duration(s)*time.Second != d {
		e.warn(field, "%s becomes %ds: Kubernetes counts whole seconds", d, s)
	}
	return s
}

// strategy is the Deployment's update strategy: startFirst starts the new
// pod before the old one goes (a rolling update of one), recreate (the
// agent's default) stops the old one first.
func (e *exporter) strategy() DeploymentStrategy {
	u := e.c.Spec.Update
	if u != (spec.Update{}) && u.Rollback() {
		e.warn("spec.update.autoRollback", "Kubernetes does not roll back a failed rollout by itself: it marks it ProgressDeadlineExceeded, and `kubectl rollout undo` rolls it back")
	}
	if u.StrategyOrDefault() == spec.UpdateStartFirst {
		return DeploymentStrategy{Type: RollingUpdateDeploymentStrategyType, RollingUpdate: &RollingUpdateDeployment{
			MaxSurge:       ptr(int32(1)),
			MaxUnavailable: ptr(int32(0)),
		}}
	}
	return DeploymentStrategy{Type: RecreateDeploymentStrategyType}
}

// podOnly warns of what a bare Pod cannot carry.
func (e *exporter) podOnly() {
	if e.c.Spec.Update != (spec.Update{}) {
		e.warn("spec.update", "a bare Pod is never updated in place, so update has no effect; export a Deployment (the default kind) to keep it")
	}
}

// unmapped names what has no Kubernetes equivalent: an error when the
// container would not work as declared, else a warning.
func (e *exporter) unmapped() {
	s := &e.c.Spec
	if len(s.Devices) > 0 {
		e.fail("spec.devices", "host devices have no pod field; Kubernetes assigns devices through a device plugin (e.g. the DirectX device plugin) and resource requests")
	}
	switch s.Network.Mode {
	case "", "nat":
	default:
		e.fail("spec.network.mode", "%q has no pod equivalent: the cluster's CNI plugin decides a pod's network", s.Network.Mode)
	}
	if s.Network.Namespace != "" {
		e.fail("spec.network.namespace", "a pod cannot join a host network namespace; its network is the CNI plugin's")
	}
	for i, d := range s.DependsOn {
		e.warn(fmt.Sprintf("spec.dependsOn[%d]", i), "Kubernetes starts pods independently: %s is not waited for; an init container that waits for its Service does it", d.Name)
	}
	if s.Placement.Defined() {
		e.warn("spec.placement", "not exported: the pod goes to any Windows node of the image's build; label the nodes and add a nodeSelector or node affinity for the hosts it admits")
	}
	if s.RestartLimit != (spec.RestartLimit{}) {
		e.warn("spec.restartLimit", "the kubelet restarts an exited container with its own back-off (CrashLoopBackOff) and no limit")
	}
}
