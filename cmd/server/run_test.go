package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli/clitest"

	"github.com/glimpse-search/glimpse/internal/cli"
)

// runCmd runs the command line and returns stdout, stderr and the error.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	return clitest.Run(t, Run, args...)
}

func TestUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string // part of the usage error
	}{
		{"unknown flag", []string{"--port", "80"}, "flag provided but not defined"},
		{"argument", []string{"photos"}, "unexpected arguments"},
		{"bad addr", []string{"--addr", "8080"}, "HOST:PORT"},
		{"bad device", []string{"--device", "tpu"}, "cpu or cuda"},
		{"negative rate", []string{"--rate", "-1"}, "--rate"},
		{"zero burst", []string{"--burst", "0"}, "--burst"},
		{"bad tokens", []string{"--tokens", "disk"}, `--tokens "disk": want cache or recompute`},
		{"bad log format", []string{"--log-format", "xml"}, "text or json"},
		{"bad log level", []string{"--log-level", "loud"}, "--log-level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(cli.EnvData, t.TempDir())
			_, _, err := runCmd(t, c.args...)
			var ue *cli.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want a usage error with %q", err, c.msg)
			}
		})
	}
	out, _, err := runCmd(t, "help")
	if err != nil || !strings.Contains(out, usageServe) || !strings.Contains(out, "--read-key-file") {
		t.Fatalf("help: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, "-h"); err != nil {
		t.Fatalf("-h: %v", err)
	}
}
