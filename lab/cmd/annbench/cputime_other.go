//go:build !unix

package main

import "time"

// cpuTime is not measured here: 0, and reports fall back to wall time.
func cpuTime() time.Duration { return 0 }
