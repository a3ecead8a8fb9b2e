// Package clitest checks a binary's documentation against its real usage lines, so that the
// README cannot drift from the flags.
package clitest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
)

// CheckREADME fails tb unless the README at path lists exactly the given usage lines of
// program prog: every usage line appears as a line "bin/USAGE" (a trailing "  # comment" is
// allowed), and every README line that begins "bin/PROG " inside a code block is one of them.
func CheckREADME(tb testing.TB, path, prog string, usages ...string) {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		tb.Fatal(err)
	}
	want := map[string]bool{}
	for _, u := range usages {
		want["bin/"+u] = false
	}
	inCode := false
	for i, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if !inCode || !strings.HasPrefix(line, "bin/"+prog+" ") && line != "bin/"+prog {
			continue
		}
		cmd, _, _ := strings.Cut(line, "  #")
		cmd = strings.TrimSpace(cmd)
		seen, ok := want[cmd]
		switch {
		case !ok && strings.Contains(cmd, "[--"):
			tb.Errorf("%s:%d: %q is not a usage line of %s (its -h says otherwise)", path, i+1, cmd, prog)
		case ok && seen:
			tb.Errorf("%s:%d: %q listed twice", path, i+1, cmd)
		case ok:
			want[cmd] = true
		}
	}
	for u, seen := range want {
		if !seen {
			tb.Errorf("%s lacks the usage line %q", path, u)
		}
	}
}

// Run runs a binary's Run function on args and returns what it wrote to stdout and stderr.
func Run(tb testing.TB, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error,
	args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// CheckProgramREADME is [CheckREADME] for every subcommand of a program.
func CheckProgramREADME(tb testing.TB, path string, p cli.Program) {
	tb.Helper()
	usages := make([]string, len(p.Commands))
	for i, c := range p.Commands {
		usages[i] = c.Usage
	}
	CheckREADME(tb, path, p.Name, usages...)
}
