// Package hcs is the driver for real Windows hosts: it manages compute
// systems through the Host Compute Service (github.com/Microsoft/hcsshim),
// pulls Windows images with go-containerregistry and imports their layers
// into a content-addressed layer store under the data directory.
//
// What it owns:
//   - the schema1 container document (Owner, layers, scratch, utility VM,
//     resources, mounts, named pipes, network endpoints, devices) and the
//     process started in the container;
//   - reading live compute systems back into driver.System, with isolation
//     taken from live evidence (a Hyper-V container has a utility VM runtime
//     id, a process-isolated one has none) and the name and spec hash taken
//     from the compute system ID (driver.SystemID);
//   - the mapping of HCS error codes onto the driver's error classes;
//   - the host facts (build, UBR, SKU, Hyper-V) the version rules need;
//   - choosing the windows/amd64 manifest whose os.version suits the host
//     and the isolation mode, and the layer store's bookkeeping and garbage
//     collection;
//   - fetching an image ahead of a create (driver.ImagePreparer) and keeping
//     each created system's request in its record (driver.RequestReader),
//     so a recreate whose create fails can restore the previous spec.
//
// Everything that is not a syscall lives in untagged files and is tested on
// Linux; the calls into hcsshim, the registry and the process table live in
// *_windows.go files and are kept thin. On other OSes New returns an error.
//
// hcs imports driver and spec of the project, nothing else (never reconcile,
// cmd or another driver).
package hcs
