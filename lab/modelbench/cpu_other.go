//go:build !unix

package modelbench

import "time"

// cpuTime is not measured off Unix: CPU figures are 0.
func cpuTime() time.Duration { return 0 }
