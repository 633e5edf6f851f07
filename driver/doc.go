// Package driver is the boundary between the reconciler and a container
// host: one small interface (Driver), the observed and requested shapes of a
// compute system, and a fixed set of error classes checked with errors.Is.
//
// Implementations: driver/hcs (real Windows HCS, windows only) and
// driver/sim (an emulated HCS host in a state file). driver/drivertest is
// the conformance suite both must pass.
//
// driver imports spec at most.
package driver
