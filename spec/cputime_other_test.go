//go:build !unix

package spec

import "time"

var processStart = time.Now()

// cpuTime falls back to the time since the test process started where
// rusage is not available.
func cpuTime() time.Duration { return time.Since(processStart) }
