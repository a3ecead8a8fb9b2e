//go:build unix

package modelbench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used so far, all threads together.
// Under contention from other processes it stays close to the work done, where the wall clock
// does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
