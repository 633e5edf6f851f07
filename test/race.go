//go:build race

package test

// raceEnabled: the binary under test is built with -race too.
const raceEnabled = true
