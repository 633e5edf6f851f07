package spec

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// hashVersion prefixes every spec hash; it changes whenever the encoding
// below does, so that an old hash is never compared with a new one as if
// they meant the same thing.
const hashVersion = "v1-"

// Hash is the versioned spec hash, "v1-" and 16 hex digits of a SHA-256,
// that the planner compares to decide whether a running container still
// matches its manifest.
//
// It covers, in this order, the fields that shape the running container:
// image, command, workingDir, env (sorted by name), hostname, resources
// (cpuCount, cpuMaximumPercent, memoryMB), mounts, namedPipes, ports,
// network (mode, namespace) and devices. Lists keep their order: a
// reordered list is a change. Defaults count as their value (a port's
// protocol "" hashes as "tcp", network mode "" as "nat").
//
// It does not cover metadata (name, labels), isolation (the planner
// compares the isolation it resolves for this host against live evidence,
// so that "default" becoming an explicit "process", or "auto" that
// resolves to the mode running, is not a change, while "auto" resolving
// to another mode after a host change is), osVersion (a hint about the
// image), restartPolicy, restartLimit, healthcheck, dependsOn, update or
// placement (they say how, and where, the agent runs and replaces the
// container, not what it is).
//
// The encoding is written field by field, never derived from the struct,
// so adding a field to ContainerSpec changes no existing hash: each field
// is its name, then its value; a string is a uvarint length and its bytes,
// an integer a varint, a boolean one byte, a list or map a uvarint count
// and its elements.
func (s ContainerSpec) Hash() string {
	var scratch [512]byte // most specs encode in less: no allocation
	e := canonical{buf: scratch[:0]}
	e.str("image", s.Image)
	e.list("command", len(s.Command))
	for _, a := range s.Command {
		e.value(a)
	}
	e.str("workingDir", s.WorkingDir)
	names := s.EnvNames()
	e.list("env", len(names))
	for _, n := range names {
		e.value(n)
		e.value(s.Env[n])
	}
	e.str("hostname", s.Hostname)
	e.num("resources.cpuCount", s.Resources.CPUCount)
	e.num("resources.cpuMaximumPercent", s.Resources.CPUMaximumPercent)
	e.num("resources.memoryMB", s.Resources.MemoryMB)
	e.list("mounts", len(s.Mounts))
	for _, m := range s.Mounts {
		e.value(m.HostPath)
		e.value(m.ContainerPath)
		e.flag(m.ReadOnly)
	}
	e.list("namedPipes", len(s.NamedPipes))
	for _, p := range s.NamedPipes {
		e.value(p.HostPipe)
		e.value(p.ContainerPipe)
	}
	e.list("ports", len(s.Ports))
	for _, p := range s.Ports {
		e.integer(p.HostPort)
		e.integer(p.ContainerPort)
		e.value(orDefault(p.Protocol, defaultProtocol))
	}
	e.str("network.mode", orDefault(s.Network.Mode, defaultNetworkMode))
	e.str("network.namespace", s.Network.Namespace)
	e.list("devices", len(s.Devices))
	for _, d := range s.Devices {
		e.value(d.IDType)
		e.value(d.ID)
	}
	sum := sha256.Sum256(e.buf)
	return hashVersion + hex.EncodeToString(sum[:8])
}

// canonical is the byte encoding Hash digests.
type canonical struct {
	buf []byte
}

// value writes a string: its length, then its bytes.
func (e *canonical) value(s string) {
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *canonical) integer(n int) {
	e.buf = binary.AppendVarint(e.buf, int64(n))
}

func (e *canonical) flag(b bool) {
	var v byte
	if b {
		v = 1
	}
	e.buf = append(e.buf, v)
}

// str writes a named string field.
func (e *canonical) str(field, s string) {
	e.value(field)
	e.value(s)
}

// num writes a named integer field.
func (e *canonical) num(field string, n int) {
	e.value(field)
	e.integer(n)
}

// list writes the name and element count of a list or map field; the
// caller writes the elements.
func (e *canonical) list(field string, n int) {
	e.value(field)
	e.buf = binary.AppendUvarint(e.buf, uint64(n))
}

// HostAccess lists, in words, each way this spec pierces the isolation
// boundary, for --deny-host-access and for plans: mounts ("mount C:\data →
// C:\data (read-only)"), named pipes ("named pipe \\.\pipe\svc"), ports
// ("port 8080/tcp → 80"), a network namespace ("network namespace
// <guid>") and devices ("device class/<guid>"). Empty when none.
func (s ContainerSpec) HostAccess() []string {
	var out []string
	for _, m := range s.Mounts {
		mode := "read-write"
		if m.ReadOnly {
			mode = "read-only"
		}
		out = append(out, fmt.Sprintf("mount %s → %s (%s)", m.HostPath, m.ContainerPath, mode))
	}
	for _, p := range s.NamedPipes {
		if p.ContainerPipe == p.HostPipe {
			out = append(out, "named pipe "+p.HostPipe)
		} else {
			out = append(out, fmt.Sprintf("named pipe %s → %s", p.HostPipe, p.ContainerPipe))
		}
	}
	for _, p := range s.Ports {
		out = append(out, fmt.Sprintf("port %d/%s → %d", p.HostPort, orDefault(p.Protocol, defaultProtocol), p.ContainerPort))
	}
	if s.Network.Namespace != "" {
		out = append(out, "network namespace "+s.Network.Namespace)
	}
	for _, d := range s.Devices {
		out = append(out, fmt.Sprintf("device %s/%s", d.IDType, d.ID))
	}
	return out
}

// EnvNames returns the environment variable names, sorted; nil when none.
// Plans print names, never values.
func (s ContainerSpec) EnvNames() []string {
	return sortedKeys(s.Env)
}
