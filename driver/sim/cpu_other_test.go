//go:build !unix

package sim

import "time"

// processCPU is not measured here: zero.
func processCPU() time.Duration { return 0 }
