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
		name  string
		args  []string
		usage bool // a UsageError
	}{
		{"no command", nil, true},
		{"unknown command", []string{"index"}, true},
		{"add without paths", []string{"add"}, true},
		{"bad flag", []string{"add", "--workers", "x", "p"}, true},
		{"zero workers", []string{"add", "--workers", "0", "p"}, true},
		{"negative threads", []string{"add", "--threads", "-1", "p"}, true},
		{"unknown token policy", []string{"add", "--tokens", "sometimes", "p"}, true},
		{"token policy in capitals", []string{"add", "--tokens", "Copies", "p"}, true},
		{"add-texts without file", []string{"add-texts"}, true},
		{"remove without paths", []string{"remove"}, true},
		{"status with argument", []string{"status", "x"}, true},
		{"compact with argument", []string{"compact", "x"}, true},
		{"help", []string{"help"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(cli.EnvData, t.TempDir())
			_, _, err := runCmd(t, c.args...)
			var ue *cli.UsageError
			if got := errors.As(err, &ue); got != c.usage {
				t.Fatalf("got %v, want usage error %v", err, c.usage)
			}
		})
	}
	out, _, _ := runCmd(t, "help")
	for _, c := range program.Commands {
		if !strings.Contains(out, c.Usage) {
			t.Errorf("help lacks %q", c.Usage)
		}
	}
}
