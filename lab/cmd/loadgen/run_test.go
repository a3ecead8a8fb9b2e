package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli/clitest"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/internal/fixture"
)

// TestLoad runs a small load through a real loopback server started over a data dir: no
// errors, and the last line is the JSON report. `make bench-server` runs the full size.
func TestLoad(t *testing.T) {
	data, _ := fixture.Library(t, 6)
	n := "24"
	if testing.Short() {
		n = "8"
	}
	out, stderr, err := runCmd(t, "--data", data, "--n", n, "--concurrency", "4", "--warmup", "2", "--limit", "3", "--k", "6")
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep loadReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if rep.Errors != 0 || rep.Images != 6 || rep.K != 6 || rep.Searches < 8 || rep.Throughput <= 0 || rep.P50 <= 0 || rep.P99 < rep.P50 ||
		rep.ServerP50 <= 0 {
		t.Fatalf("report %+v", rep)
	}
}

// TestLoadHostile: with hostile clients sending bombs in a loop, the well-behaved searches all
// succeed and every bomb is refused with a 4xx.
func TestLoadHostile(t *testing.T) {
	data, _ := fixture.Library(t, 6)
	out, stderr, err := runCmd(t, "--data", data, "--n", "16", "--concurrency", "4", "--warmup", "2", "--limit", "3",
		"--k", "6", "--hostile", "2")
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep loadReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if rep.Errors != 0 || rep.Hostile == nil || rep.Hostile.Clients != 2 || rep.Hostile.Sent == 0 || rep.PeakRSSMB <= 0 {
		t.Fatalf("report %+v", rep)
	}
	for code, n := range rep.Hostile.Codes {
		if !strings.HasSuffix(code, " 413") && !strings.HasSuffix(code, " 422") {
			t.Errorf("%d hostile uploads answered %q, want 413 or 422", n, code)
		}
	}
}

func runCmd(t *testing.T, args ...string) (string, string, error) {
	return clitest.Run(t, Run, args...)
}

func TestUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no target":        {},
		"both targets":     {"--url", "http://127.0.0.1:1", "--data", "x"},
		"remote":           {"--url", "http://192.0.2.7:8080"},
		"too many":         {"--url", "http://127.0.0.1:1", "--n", "1000000"},
		"zero concurrency": {"--url", "http://localhost:1", "--concurrency", "0"},
		"argument":         {"--url", "http://localhost:1", "photos"},
	} {
		_, _, err := runCmd(t, args...)
		var ue *cli.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%s: got %v, want a usage error", name, err)
		}
	}
}
