// Package sim is an emulated Windows container host: EmulatedHost implements
// driver.Driver, driver.ProcessViewer, driver.ImagePreparer,
// driver.RequestReader and driver.HealthChecker on top of one state file, so the
// reconciler runs (and is tested) anywhere. It is the default driver off
// Windows.
//
// It owns the emulated host's state: the host (OS build, revision, SKU,
// Hyper-V), its compute systems with their processes, a host-wide PID
// counter and the injected faults. The state lives in one human-readable
// JSON snapshot plus an append-only journal of mutations beside it
// (path + ".journal"), which check each other: a missing, truncated,
// edited or foreign file is refused (ErrStateDamaged), never read as an
// empty host, while every state a crash can leave opens. Every access
// holds an flock on path + ".lock", path with its symlinks resolved, so
// any number of EmulatedHost values and processes may share one state
// file, however they name it.
//
// It is faithful to HCS: it refuses what HCS refuses (an image whose OS
// version the isolation mode cannot run, with HCS's own error text; Hyper-V
// isolation on a host without Hyper-V), shows process-isolated containers'
// processes in the host's process view with the same PIDs and a vmwp.exe
// instead for Hyper-V ones, and can inject latency, transient and permanent
// failures, exits (Kill) and disappearances (Delete) for tests and demos.
// Image pulls take Faults.PullLatency once per image (an image pulled, or
// run by a container, is present from then on) and fail for
// Faults.FailImages; health checks (CheckHealth) report what SetHealth set
// for the container's name or image, ok otherwise, and fail for a
// container that is not running.
//
// sim imports driver and spec of the project, nothing else of it (never
// reconcile, never driver/hcs).
package sim
