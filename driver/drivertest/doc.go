// Package drivertest is the conformance suite every driver.Driver passes:
// Run executes one named subtest per contract point of the interface's doc
// comments (and of driver.ProcessViewer when the driver implements it).
// driver/sim runs it in every `go test`; driver/hcs runs it on a Windows
// host.
//
// It imports driver and spec of the project, never an implementation.
package drivertest
