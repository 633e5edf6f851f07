package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// APIVersion and Kind are the only values a manifest document may carry.
const (
	APIVersion = "reconciler/v1"
	Kind       = "Container"
)

// Isolation is a Windows container isolation mode.
type Isolation string

// The isolation modes. IsolationDefault resolves per host SKU, see
// Host.Effective; IsolationAuto resolves per host and image, see
// CheckCompatibility.
const (
	IsolationDefault Isolation = "default"
	IsolationProcess Isolation = "process"
	IsolationHyperV  Isolation = "hyperv"
	// IsolationAuto (opt-in) is process isolation when the image is
	// compatible with the host, else Hyper-V isolation when the host has
	// it, decided again on every pass.
	IsolationAuto Isolation = "auto"
)

// RestartPolicy says what the agent does when a container's main process exits.
type RestartPolicy string

// The restart policies.
const (
	RestartAlways    RestartPolicy = "always"
	RestartOnFailure RestartPolicy = "on-failure"
	RestartNever     RestartPolicy = "never"
)

// Container is one manifest document.
type Container struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   Metadata      `json:"metadata"`
	Spec       ContainerSpec `json:"spec"`

	// Origin is where the document was read from; it is not part of the
	// manifest.
	Origin Origin `json:"-"`
}

// Origin locates a manifest document.
type Origin struct {
	// File is the path as the user named it (relative to the folder root
	// for folder and git sources).
	File string
	// Line is the 1-based line where the document starts, 0 if unknown.
	Line int
	// DependsOn is the line of each entry of spec.dependsOn, in order, so
	// that a problem found across the desired set (a missing name, a
	// cycle) is placed at the entry; nil when unknown.
	DependsOn []int
}

// String renders "file:line" or "file".
func (o Origin) String() string {
	if o.Line > 0 {
		return o.File + ":" + strconv.Itoa(o.Line)
	}
	return o.File
}

// Metadata names a container.
type Metadata struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ContainerSpec is everything that shapes the running container.
type ContainerSpec struct {
	Image         string            `json:"image"`
	Isolation     Isolation         `json:"isolation,omitempty"`
	OSVersion     string            `json:"osVersion,omitempty"`
	Command       []string          `json:"command,omitempty"`
	WorkingDir    string            `json:"workingDir,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	Hostname      string            `json:"hostname,omitempty"`
	RestartPolicy RestartPolicy     `json:"restartPolicy,omitempty"`
	Resources     Resources         `json:"resources,omitempty"`
	Mounts        []Mount           `json:"mounts,omitempty"`
	NamedPipes    []NamedPipe       `json:"namedPipes,omitempty"`
	Ports         []Port            `json:"ports,omitempty"`
	Network       Network           `json:"network,omitempty"`
	Devices       []Device          `json:"devices,omitempty"`

	// The fields below say how the agent runs and replaces the container,
	// not what the container is: they are outside its spec hash, so a
	// change to them never recreates it.

	// RestartLimit bounds the agent's restarts of an exited container
	// (a flap limit): past MaxRestarts within Window it is left stopped
	// and reported.
	RestartLimit RestartLimit `json:"restartLimit,omitzero"`
	// Healthcheck says how the agent finds the container healthy.
	Healthcheck Healthcheck `json:"healthcheck,omitzero"`
	// DependsOn lists containers of the same set that must be started
	// (or healthy) before this one is created; removals go in reverse.
	DependsOn []Dependency `json:"dependsOn,omitempty"`
	// Update says how a change to the container is rolled out.
	Update Update `json:"update,omitzero"`
	// Placement says which hosts of a fleet the container is meant for;
	// a host it does not admit does not run it.
	Placement Placement `json:"placement,omitzero"`
}

// Duration is a duration as written in a manifest, in Go's syntax ("5s",
// "2m", "1m30s"). Validation refuses anything time.ParseDuration does not
// accept, and negative values.
type Duration string

// Healthcheck is one of Exec, TCP or HTTP, with its timing.
type Healthcheck struct {
	// Exec is a command run inside the container; healthy when it exits 0.
	Exec []string `json:"exec,omitempty"`
	// TCP is a container port; healthy when it accepts a connection.
	TCP int `json:"tcp,omitempty"`
	// HTTP is a GET of a path on a container port; healthy on 2xx or 3xx.
	HTTP HTTPCheck `json:"http,omitzero"`
	// Interval is the time between two checks.
	Interval Duration `json:"interval,omitempty"`
	// Timeout bounds one check.
	Timeout Duration `json:"timeout,omitempty"`
	// Retries is how many failed checks in a row make it unhealthy.
	Retries int `json:"retries,omitempty"`
	// StartPeriod is the time after a start during which failures do not
	// count.
	StartPeriod Duration `json:"startPeriod,omitempty"`
}

// HTTPCheck is an HTTP health check.
type HTTPCheck struct {
	Path string `json:"path,omitempty"`
	Port int    `json:"port,omitempty"`
}

// DependencyCondition is what a dependency must reach first.
type DependencyCondition string

// The dependency conditions.
const (
	ConditionStarted DependencyCondition = "started"
	ConditionHealthy DependencyCondition = "healthy"
)

// Dependency names a container this one waits for.
type Dependency struct {
	Name      string              `json:"name"`
	Condition DependencyCondition `json:"condition,omitempty"`
}

// UpdateStrategy is how a changed container is replaced.
type UpdateStrategy string

// The update strategies.
const (
	// UpdateRecreate removes the old container, then creates the new one.
	UpdateRecreate UpdateStrategy = "recreate"
	// UpdateStartFirst creates the new container beside the old one and
	// removes the old one once the new one is healthy.
	UpdateStartFirst UpdateStrategy = "startFirst"
)

// Update is how a change is rolled out.
type Update struct {
	Strategy UpdateStrategy `json:"strategy,omitempty"`
	// ProgressDeadline bounds the wait for a new container to be healthy.
	ProgressDeadline Duration `json:"progressDeadline,omitempty"`
	// AutoRollback restores the previous spec when the new container is not
	// healthy within ProgressDeadline. Unset means true.
	AutoRollback *bool `json:"autoRollback,omitempty"`
}

// RestartLimit is a flap limit on the agent's restarts.
type RestartLimit struct {
	MaxRestarts int      `json:"maxRestarts,omitempty"`
	Window      Duration `json:"window,omitempty"`
}

// Resources limits a container. Zero means "no limit".
type Resources struct {
	CPUCount          int `json:"cpuCount,omitempty"`
	CPUMaximumPercent int `json:"cpuMaximumPercent,omitempty"`
	MemoryMB          int `json:"memoryMB,omitempty"`
}

// Mount maps a host directory into the container (pierces isolation).
type Mount struct {
	HostPath      string `json:"hostPath"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly,omitempty"`
}

// NamedPipe maps a host named pipe into the container (pierces isolation).
type NamedPipe struct {
	HostPipe      string `json:"hostPipe"`
	ContainerPipe string `json:"containerPipe"`
}

// Port publishes a container port on the host (pierces isolation).
type Port struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"` // tcp (default) | udp
}

// Network selects the container's network. Mode is nat (default),
// transparent, l2bridge or none. Namespace, when set, joins an existing
// host network namespace (a GUID) and pierces isolation.
type Network struct {
	Mode      string `json:"mode,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Device assigns a host device to the container (pierces isolation), as
// docker's --device IDType/ID: IDType is "class" (a device interface class
// GUID) or "vpci-location-path".
type Device struct {
	IDType string `json:"idType"`
	ID     string `json:"id"`
}

// Problem is one thing wrong with the desired set: an error or a warning.
// Every problem names where it is (file, line where YAML gives one), the
// container when known, and the field path.
type Problem struct {
	File    string `json:"source"`
	Line    int    `json:"line,omitempty"`
	Name    string `json:"name"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Warning marks a problem that does not make its file invalid, such
	// as a file that declares nothing. Every problem of the desired set,
	// warning or error, holds removals.
	Warning bool `json:"-"`
}

// Error renders "file:line: name: field: message", leaving out what is
// unknown.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Name != "" {
		b.WriteString(p.Name)
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}
