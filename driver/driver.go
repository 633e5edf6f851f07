package driver

import (
	"context"
	"errors"
	"time"

	"github.com/reconciler/reconciler/spec"
)

// Driver manages the compute systems of one container host.
//
// Every method takes ctx first, blocks until done or until ctx is done, and
// is safe for concurrent use. Errors wrap one of the classes below (checked
// with errors.Is); anything else is a permanent failure of that call.
type Driver interface {
	// Host reports the host's OS build, revision, SKU and whether Hyper-V
	// isolation is available.
	Host(ctx context.Context) (spec.Host, error)

	// List returns every compute system that is a container on the host,
	// whatever its owner (foreign systems are needed to refuse name
	// collisions). Utility VMs are not listed. The order is by ID.
	List(ctx context.Context) ([]System, error)

	// Create creates and starts a compute system for req and returns it as
	// observed once running. It refuses, with ErrIncompatible and the host's
	// own words, an image whose OS version the isolation mode cannot run and
	// Hyper-V isolation on a host without Hyper-V. A system that already
	// exists with the same ID gives ErrAlreadyExists. On failure nothing is
	// left behind.
	Create(ctx context.Context, req CreateRequest) (System, error)

	// Remove stops the compute system with this ID (a graceful shutdown
	// bounded by grace, then terminate) and deletes it. Idempotent: an ID
	// that does not exist gives ErrNotFound, which callers removing may
	// treat as success.
	Remove(ctx context.Context, id string, grace time.Duration) error
}

// ProcessViewer is implemented by drivers that can show a container's
// processes and what the host sees of them.
type ProcessViewer interface {
	// Processes returns the processes inside the container with this ID and
	// the host processes that belong to it: for process isolation the same
	// processes with the same PIDs, for Hyper-V isolation the VM worker
	// process (vmwp.exe) of its utility VM. ErrNotFound if there is no
	// such system.
	Processes(ctx context.Context, id string) (ProcessView, error)
}

// ImagePreparer is implemented by drivers that fetch images. A recreate
// prepares the new image before it stops the old container, so a registry
// that is down, an image that does not exist or one the host cannot run
// leaves the old container running.
type ImagePreparer interface {
	// PrepareImage makes what Create needs of req's image ready on the host
	// (pulled and unpacked) and checks what it can of the image against the
	// host and req.Isolation, without creating anything. Idempotent: an
	// image already present is not fetched again. Blocks until done or ctx
	// is done. Errors: ErrIncompatible when the host cannot run the image
	// in req.Isolation; ErrTransient for a registry failure worth retrying;
	// anything else is permanent (no such image, unauthorized).
	PrepareImage(ctx context.Context, req CreateRequest) error
}

// HealthChecker is implemented by drivers that can run a container's
// health check: an exec inside the container, or a TCP connect or an HTTP
// GET to the container's address or published port.
type HealthChecker interface {
	// CheckHealth runs hc once against the compute system with this ID and
	// returns nil when it passed. It does not retry and does not wait for
	// hc.StartPeriod or hc.Interval: the caller schedules the checks and
	// bounds each one by ctx (hc.Timeout). Errors: ErrUnhealthy wrapped
	// with what the check saw (exit code, refused connection, HTTP status),
	// and for a system that is not running; ErrNotFound when there is no
	// such system; anything else means the check could not be run. The
	// error names the check (DescribeCheck).
	CheckHealth(ctx context.Context, id string, hc spec.Healthcheck) error
}

// RequestReader is implemented by drivers that keep the request each
// compute system they created was made with, so that a recreate whose
// create fails can create the previous spec again. What it returns only
// restores: decisions come from List.
type RequestReader interface {
	// CreatedWith returns the request the compute system with this ID was
	// created with. ImageVersion may be unknown (Create resolves it from
	// the spec then, as for any request). ErrNotFound when there is no such
	// system or the driver kept no record of its request (one made by an
	// older build, or not by this driver).
	CreatedWith(ctx context.Context, id string) (CreateRequest, error)
}

// ProcessView is a container's processes as seen from inside and from the
// host.
type ProcessView struct {
	Container []Process `json:"container"`
	Host      []Process `json:"host"`
}

// Process is one process.
type Process struct {
	PID     uint32 `json:"pid"`
	Name    string `json:"name"`
	Command string `json:"command,omitempty"`
}

// State is a compute system's state.
type State string

// The states a System may be observed in.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateStopped State = "stopped"
)

// System is a compute system as observed on the host.
type System struct {
	// ID is the compute system's unique id on the host.
	ID string `json:"id"`
	// Name is the container name the owner gave it (for foreign systems
	// whose id encodes no name, the id).
	Name string `json:"name"`
	// Owner is the HCS owner string.
	Owner string `json:"owner"`
	// Isolation is read from live evidence: IsolationProcess or
	// IsolationHyperV, never IsolationDefault.
	Isolation spec.Isolation `json:"isolation"`
	// Image is the image reference the system was created from, when known.
	Image string `json:"image"`
	State State  `json:"state"`
	// SpecHash is the spec hash the system was created with, recovered from
	// live state (see SystemID); empty when the system's ID carries none,
	// as for most foreign systems.
	SpecHash string `json:"specHash,omitempty"`
	// ExitCode is the main process's exit code once State is stopped.
	ExitCode int       `json:"exitCode"`
	Created  time.Time `json:"created"`
	// HostOS is the host's OS version (build and revision) when the system
	// was created, as the driver recorded it then; zero when unknown (a
	// system another program made, or one made before drivers recorded
	// it). Like Image and Created it only enriches what is reported: a
	// host patched or upgraded since is named in plans, it decides nothing.
	HostOS spec.OSVersion `json:"hostOS,omitzero"`
}

// CreateRequest asks for one compute system.
type CreateRequest struct {
	// Name is the container name (a DNS label).
	Name string
	// Owner is written to the compute system's owner field.
	Owner string
	// SpecHash is recorded on the system so it can be read back by List.
	SpecHash string
	// Isolation is IsolationProcess or IsolationHyperV (already resolved).
	Isolation spec.Isolation
	// ImageVersion is what the caller knows of the image's OS version; a
	// driver that can read the image's own os.version uses that instead.
	ImageVersion spec.ImageVersion
	Spec         spec.ContainerSpec
}

// Error classes. Drivers wrap them with context:
// fmt.Errorf("create %s: %w", name, driver.ErrIncompatible).
var (
	// ErrNotFound: no compute system with that ID.
	ErrNotFound = errors.New("compute system not found")
	// ErrAlreadyExists: a compute system with that ID exists.
	ErrAlreadyExists = errors.New("compute system already exists")
	// ErrIncompatible: the host cannot run this image in this isolation
	// mode (OS version mismatch, Hyper-V not available). Retrying does not
	// help; the message says what would.
	ErrIncompatible = errors.New("incompatible with the host")
	// ErrTransient: the host was busy or timed out; retrying may succeed.
	ErrTransient = errors.New("transient failure")
	// ErrUnhealthy: a health check ran and failed.
	ErrUnhealthy = errors.New("health check failed")
)

// PullReporter is implemented by drivers that pull images and can tell how
// far the pulls in progress are, for status displays (GET /status).
type PullReporter interface {
	// Pulls returns the pulls in progress, sorted by image, and an empty
	// (non-nil) slice when there are none. It does not call the host,
	// does not block and is safe for concurrent use.
	Pulls() []PullProgress
}

// PullProgress is one image pull in progress.
type PullProgress struct {
	Image string `json:"image"`
	// Layer is the 1-based layer being imported, of Layers.
	Layer  int `json:"layer"`
	Layers int `json:"layers"`
	// Bytes is how much of the current layer has been extracted.
	Bytes   int64     `json:"bytes"`
	Started time.Time `json:"started"`
}

// ExitWatcher is implemented by drivers that can report a compute system
// exiting behind the agent's back, so the agent need not wait for its next
// resync.
type ExitWatcher interface {
	// WatchExits calls notify with a system's ID each time one exits, until
	// ctx is done. It returns when ctx is done.
	WatchExits(ctx context.Context, notify func(id string))
}
