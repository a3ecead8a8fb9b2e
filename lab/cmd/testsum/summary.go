package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// maxMessage caps, in runes, a message quoted in the summary (the full output is above it).
const maxMessage = 200

// benchMarker in a skip's reason marks a benchmark report (run by `make bench-*`), not a test.
const benchMarker = "GLIMPSE_BENCH"

// Options configures a Summary.
type Options struct {
	// Suite names the suite in the summary's first line. Default "go".
	Suite string
	// Module is the module path trimmed from package paths ("" shows them whole).
	Module string
	// Verbose writes every output line as it comes instead of only failures. Default false.
	Verbose bool
}

// event is one line of `go test -json` (cmd/test2json), build events included.
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string // build-output, build-fail
	FailedBuild string // a package's fail when its test binary did not build
}

// Skip is a test that was skipped, with the reason it logged last before skipping.
type Skip struct {
	Package, Test, Reason string
}

// counts are the results of one package's tests.
type counts struct{ passed, failed, skipped int }

// Summary accumulates one `go test -json` stream: Feed each line, then Close, then WriteSummary.
// It is not safe for concurrent use.
type Summary struct {
	opts     Options
	w        io.Writer           // progress
	running  map[string][]string // output of running tests, keyed by package + "\x00" + test
	pkgOut   map[string][]string // package-level output
	buildOut map[string][]string // build output, keyed by import path
	pkgs     map[string]*counts

	passed, failed, skipped int
	packages                int
	skips, benchmarks       []Skip
	failures                []string // "pkg Test: message" of the tests that failed themselves
	failedPkgs              []string // "pkg: why" of packages that failed outside any test
}

// NewSummary returns a Summary that writes progress to w.
func NewSummary(w io.Writer, opts Options) *Summary {
	if opts.Suite == "" {
		opts.Suite = "go"
	}
	return &Summary{opts: opts, w: w, running: map[string][]string{}, pkgOut: map[string][]string{},
		buildOut: map[string][]string{}, pkgs: map[string]*counts{}}
}

// Feed processes one line of input. Lines that are not JSON events are copied to the progress.
func (s *Summary) Feed(line []byte) {
	var e event
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
		fmt.Fprintf(s.w, "%s\n", line)
		return
	}
	switch {
	case e.Action == "build-output":
		s.buildOut[e.ImportPath] = append(s.buildOut[e.ImportPath], e.Output)
	case e.Action == "build-fail":
		for _, l := range s.buildOut[e.ImportPath] {
			io.WriteString(s.w, l)
		}
		delete(s.buildOut, e.ImportPath)
	case e.Action == "output":
		if s.opts.Verbose {
			io.WriteString(s.w, e.Output)
		}
		if e.Test != "" {
			k := key(e.Package, e.Test)
			s.running[k] = append(s.running[k], e.Output)
		} else {
			s.pkgOut[e.Package] = append(s.pkgOut[e.Package], e.Output)
		}
	case e.Test != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		s.endTest(e)
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		s.endPackage(e)
	}
}

func key(pkg, test string) string { return pkg + "\x00" + test }

// endTest records a test's result; a failed test's output is written now.
func (s *Summary) endTest(e event) {
	k := key(e.Package, e.Test)
	lines := s.running[k]
	delete(s.running, k)
	c := s.pkg(e.Package)
	switch e.Action {
	case "pass":
		s.passed++
		c.passed++
	case "skip":
		sk := Skip{Package: s.short(e.Package), Test: e.Test, Reason: skipReason(lines)}
		if strings.Contains(sk.Reason, benchMarker) {
			s.benchmarks = append(s.benchmarks, sk)
			return
		}
		s.skipped++
		c.skipped++
		s.skips = append(s.skips, sk)
	case "fail":
		name := s.short(e.Package) + " " + e.Test
		if slices.ContainsFunc(s.failures, func(f string) bool { return strings.HasPrefix(f, name+"/") }) {
			return // failed through a subtest, already counted and shown
		}
		if !s.opts.Verbose {
			s.writeTest(fmt.Sprintf("--- FAIL  %s (%.2fs)", name, e.Elapsed), lines)
		}
		s.failed++
		c.failed++
		if msg := failMessage(lines); msg != "" {
			name += ": " + msg
		}
		s.failures = append(s.failures, name)
	}
}

// writeTest writes a header line and a test's output without go test's framing lines
// ("=== RUN", "--- FAIL: ...").
func (s *Summary) writeTest(header string, lines []string) {
	fmt.Fprintln(s.w, header)
	for _, l := range lines {
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ") {
			io.WriteString(s.w, l)
		}
	}
}

// endPackage writes a package's ok/FAIL line.
func (s *Summary) endPackage(e event) {
	s.packages++
	c := s.pkg(e.Package)
	name := s.short(e.Package)
	out := s.pkgOut[e.Package]
	delete(s.pkgOut, e.Package)
	switch {
	case e.Action == "skip":
		if !s.opts.Verbose {
			fmt.Fprintf(s.w, "?     %-32s [no test files]\n", name)
		}
	case e.Action == "pass":
		if !s.opts.Verbose {
			fmt.Fprintf(s.w, "ok    %-32s %7.1fs  %s\n", name, e.Elapsed, c)
		}
	case e.FailedBuild != "":
		if !s.opts.Verbose {
			fmt.Fprintf(s.w, "FAIL  %-32s [build failed]\n", name)
		}
		s.failedPkgs = append(s.failedPkgs, name+": build failed")
	default:
		if !s.opts.Verbose {
			for _, l := range out {
				if !isResultLine(l) {
					io.WriteString(s.w, l)
				}
			}
			fmt.Fprintf(s.w, "FAIL  %-32s %7.1fs  %s\n", name, e.Elapsed, c)
		}
		if c.failed == 0 {
			s.failedPkgs = append(s.failedPkgs, name+": failed outside any test (its output is above)")
		}
	}
}

// Close ends the stream: tests still running (go test killed, or its process crashed without
// test2json seeing the end) count as failed and their output is written.
func (s *Summary) Close() {
	keys := make([]string, 0, len(s.running))
	for k := range s.running {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		pkg, test, _ := strings.Cut(k, "\x00")
		if !s.opts.Verbose {
			s.writeTest("--- NO RESULT  "+s.short(pkg)+" "+test, s.running[k])
		}
		s.failed++
		s.failures = append(s.failures, s.short(pkg)+" "+test+" (no result: the run ended first)")
	}
	clear(s.running)
	for imp := range s.buildOut { // build output without a build-fail: show it anyway
		for _, l := range s.buildOut[imp] {
			io.WriteString(s.w, l)
		}
	}
	clear(s.buildOut)
}

// OK reports whether some test result came in and nothing failed.
func (s *Summary) OK() bool {
	return s.packages > 0 && s.failed == 0 && len(s.failedPkgs) == 0
}

// WriteSummary writes the suite's one-line result and, indented below it, what failed, what
// was skipped and why, and the benchmark reports not run.
func (s *Summary) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "%s: %d passed, %d failed, %d skipped", s.opts.Suite, s.passed, s.failed, s.skipped)
	if n := len(s.failedPkgs); n > 0 {
		fmt.Fprintf(w, ", %d packages failed", n)
	}
	if s.packages == 1 {
		fmt.Fprint(w, " (1 package)")
	} else {
		fmt.Fprintf(w, " (%d packages)", s.packages)
	}
	if s.packages == 0 {
		fmt.Fprint(w, "; no package ran to the end")
	}
	if n := len(s.benchmarks); n > 0 {
		fmt.Fprintf(w, "; benchmark reports not run: %d (make bench-*)", n)
	}
	fmt.Fprintln(w)
	for _, f := range s.failedPkgs {
		fmt.Fprintf(w, "  FAIL package %s\n", f)
	}
	for _, f := range s.failures {
		fmt.Fprintf(w, "  FAIL %s\n", f)
	}
	for _, sk := range s.skips {
		fmt.Fprintf(w, "  skipped %s %s: %s\n", sk.Package, sk.Test, sk.Reason)
	}
	if len(s.benchmarks) > 0 {
		names := make([]string, len(s.benchmarks))
		for i, b := range s.benchmarks {
			names[i] = b.Package + " " + b.Test
		}
		fmt.Fprintf(w, "  benchmark reports not run (GLIMPSE_BENCH=1): %s\n", strings.Join(names, ", "))
	}
}

func (s *Summary) pkg(p string) *counts {
	c := s.pkgs[p]
	if c == nil {
		c = &counts{}
		s.pkgs[p] = c
	}
	return c
}

// short trims the module path from a package path.
func (s *Summary) short(pkg string) string {
	if s.opts.Module == "" {
		return pkg
	}
	if pkg == s.opts.Module {
		return "."
	}
	return strings.TrimPrefix(pkg, s.opts.Module+"/")
}

func (c *counts) String() string {
	out := fmt.Sprintf("%d passed", c.passed)
	if c.failed > 0 {
		out += fmt.Sprintf(", %d failed", c.failed)
	}
	if c.skipped > 0 {
		out += fmt.Sprintf(", %d skipped", c.skipped)
	}
	return out
}

// logEntry matches the first line of a t.Log/t.Skip message: "    file_test.go:12: text".
var logEntry = regexp.MustCompile(`^(\s+)([\w.\-]+\.go:\d+): (.*)$`)

// skipReason returns the last message a test logged before its "--- SKIP" line, continuation
// lines joined, with its source position: "no Chromium found (browser_test.go:54)".
func skipReason(lines []string) string {
	if msg := lastMessage(lines); msg != "" {
		return msg
	}
	return "no reason given"
}

// failMessage returns a hint of why a test failed for the summary: its panic, else the last
// message it logged (its t.Fatal's), else "". The full output is written when the test ends.
func failMessage(lines []string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") {
			return strings.TrimSpace(l)
		}
	}
	return lastMessage(lines)
}

// lastMessage returns the last t.Log-style message in lines with its position, or "".
func lastMessage(lines []string) string {
	var reason, pos, indent string
	for _, l := range lines {
		l = strings.TrimRight(l, "\n")
		t := strings.TrimSpace(l)
		switch m := logEntry.FindStringSubmatch(l); {
		case strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- "):
		case m != nil:
			indent, pos, reason = m[1], m[2], m[3]
		case reason != "" && t != "" && strings.HasPrefix(l, indent+" "):
			reason += " " + t
		}
	}
	if reason == "" {
		return ""
	}
	if r := []rune(reason); len(r) > maxMessage {
		reason = string(r[:maxMessage]) + "..."
	}
	return reason + " (" + pos + ")"
}

// isResultLine reports whether l is go test's own end-of-package line (PASS, FAIL, ok ..., ? ...),
// which the package line replaces.
func isResultLine(l string) bool {
	t := strings.TrimRight(l, "\n")
	return t == "PASS" || t == "FAIL" || strings.HasPrefix(t, "ok  \t") || strings.HasPrefix(t, "FAIL\t") ||
		strings.HasPrefix(t, "?   \t")
}
