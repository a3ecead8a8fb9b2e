package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

var (
	// ErrFailed is returned when a test or package failed, or no test result came in.
	ErrFailed = errors.New("tests failed")
	// ErrUsage is returned for bad flags (already reported on stderr).
	ErrUsage = errors.New("usage")
)

// Run reads `go test -json` events from stdin, writes progress and the summary to stdout and,
// with -o, the summary to a file too.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("testsum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	suite := fs.String("suite", "go", "the suite's name, the summary's first word")
	out := fs.String("o", "", "also write the summary to this file (its folder is created)")
	verbose := fs.Bool("v", false, "write every line of the tests' output as it comes, like go test -v")
	module := fs.String("module", modulePath("go.mod"), "module path trimmed from package paths (default: go.mod's)")
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "testsum: unexpected arguments %q; it reads go test -json on stdin\n", fs.Args())
		return ErrUsage
	}
	s := NewSummary(stdout, Options{Suite: *suite, Module: *module, Verbose: *verbose})
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20) // a test may log long lines
	for sc.Scan() {
		s.Feed(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	s.Close()
	var buf bytes.Buffer
	s.WriteSummary(&buf)
	fmt.Fprintln(stdout)
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if *out != "" {
		if err := writeFile(*out, buf.Bytes()); err != nil {
			return err
		}
	}
	if !s.OK() {
		return ErrFailed
	}
	return nil
}

// modulePath returns the module path declared in the go.mod file at path, or "" when there is
// none (package paths are then shown whole).
func modulePath(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// writeFile writes data to path through a temporary file and a rename.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
