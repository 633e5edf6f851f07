//go:build unix

package spec

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used: what a bound on work
// measures, unlike the wall clock, whatever else the machine is doing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
