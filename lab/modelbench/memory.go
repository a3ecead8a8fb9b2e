package modelbench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Usage is the process's resident memory in bytes, from /proc/self/status.
type Usage struct {
	RSS  int64 // VmRSS: resident now
	Peak int64 // VmHWM: the high-water mark of VmRSS since the process started
}

// ReadUsage reads the current process's Usage (Linux only).
func ReadUsage() (Usage, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return Usage{}, fmt.Errorf("modelbench: memory usage: %w", err)
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads VmRSS and VmHWM ("VmHWM:	  123456 kB") from a /proc/<pid>/status file.
func parseStatus(r io.Reader) (Usage, error) {
	var u Usage
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != "VmRSS" && key != "VmHWM" {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return Usage{}, fmt.Errorf("modelbench: status line %q: want a value in kB", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return Usage{}, fmt.Errorf("modelbench: status line %q: bad value", sc.Text())
		}
		if key == "VmRSS" {
			u.RSS = kb << 10
		} else {
			u.Peak = kb << 10
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return Usage{}, fmt.Errorf("modelbench: read status: %w", err)
	}
	if found != 2 {
		return Usage{}, fmt.Errorf("modelbench: status has no VmRSS or VmHWM line")
	}
	return u, nil
}

// mb converts bytes to MiB rounded to a tenth.
func mb(b int64) float64 { return float64(b*10>>20) / 10 }

// loadAverage is the 1-minute load average (/proc/loadavg), or -1 when unknown: how busy the
// machine was while the figures were taken.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
