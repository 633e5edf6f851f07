package kube

import (
	"fmt"
	"strings"
)

// Kind is the kind of workload object a manifest becomes.
type Kind string

// The workload kinds.
const (
	KindDeployment Kind = "deployment"
	KindPod        Kind = "pod"
)

// The RuntimeClass names (and containerd handlers) of the two Windows
// isolation modes: runhcs-wcow-process is containerd's default Windows
// runtime; runhcs-wcow-hypervisor needs containerd 1.7 or later with a
// runtime entry whose SandboxIsolation is 1.
const (
	RuntimeClassProcess = "runhcs-wcow-process"
	RuntimeClassHyperV  = "runhcs-wcow-hypervisor"
)

// Options are the choices of an export.
type Options struct {
	// Kind is the workload kind; "" means KindDeployment.
	Kind Kind
	// Namespace, when set, is every namespaced object's namespace.
	Namespace string
	// HostPorts publishes spec.ports[].hostPort as the pod's hostPort;
	// without it a host port is a warning (expose the port with a Service).
	HostPorts bool
	// RuntimeClasses adds the RuntimeClass objects the workloads name.
	RuntimeClasses bool
	// EnvSecrets maps a container name to the Secret its environment is
	// read from (each variable from the key of its name), "" (the key
	// AllContainers) for every container without its own entry. The
	// manifest's values are then never written.
	EnvSecrets map[string]string
	// NodeCPUs, when set, is the CPU count of the Windows nodes, which a
	// cpuMaximumPercent without cpuCount needs to become a CPU limit.
	NodeCPUs int
}

// AllContainers is the EnvSecrets key that applies to every container.
const AllContainers = ""

// ParseEnvSecret reads one --env-from-secret value: SECRET (every
// container) or CONTAINER=SECRET, into secrets.
func ParseEnvSecret(secrets map[string]string, value string) error {
	container, secret, found := strings.Cut(value, "=")
	if !found {
		container, secret = AllContainers, value
	}
	if secret == "" || (found && container == "") {
		return fmt.Errorf("%q: want SECRET or CONTAINER=SECRET", value)
	}
	if prev, dup := secrets[container]; dup && prev != secret {
		who := "every container"
		if container != AllContainers {
			who = "container " + container
		}
		return fmt.Errorf("%q: %s already reads its environment from secret %q", value, who, prev)
	}
	secrets[container] = secret
	return nil
}

// envSecret is the Secret container name's environment comes from, "" for
// none.
func (o Options) envSecret(name string) string {
	if s, ok := o.EnvSecrets[name]; ok {
		return s
	}
	return o.EnvSecrets[AllContainers]
}
