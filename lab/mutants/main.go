package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Mutant is one deliberate bug: Old must occur exactly once in File and is replaced by New;
// Packages are the go test patterns that must catch it.
type Mutant struct {
	Name     string
	File     string
	Old, New string
	Packages []string
	Why      string // what a user would suffer if it shipped
}

// Outcome of one mutant.
const (
	Killed   = "killed"
	Survived = "survived"
	Invalid  = "invalid"
)

// Result is what running one mutant found.
type Result struct {
	Name    string  `json:"name"`
	Outcome string  `json:"outcome"`
	Detail  string  `json:"detail,omitempty"`
	Seconds float64 `json:"seconds"`
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("mutants", flag.ContinueOnError)
	fset.SetOutput(stderr)
	only := fset.String("only", "", "comma-separated mutant names to run (default: all)")
	list := fset.Bool("list", false, "print the mutants and exit")
	timeout := fset.Duration("timeout", 10*time.Minute, "limit of one mutant's tests")
	if err := fset.Parse(args); err != nil {
		return err
	}
	ms := mutants
	if *only != "" {
		want := strings.Split(*only, ",")
		ms = slices.DeleteFunc(slices.Clone(ms), func(m Mutant) bool { return !slices.Contains(want, m.Name) })
		if len(ms) != len(want) {
			return fmt.Errorf("--only %s: unknown names (see --list)", *only)
		}
	}
	if *list {
		for _, m := range ms {
			fmt.Fprintf(stdout, "%-28s %-32s %s\n", m.Name, m.File, m.Why)
		}
		return nil
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "glimpse-mutants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := copyTree(ctx, root, scratch); err != nil {
		return fmt.Errorf("scratch copy: %w", err)
	}
	t0 := time.Now()
	var results []Result
	for _, m := range ms {
		r := runOne(ctx, scratch, m, *timeout)
		fmt.Fprintf(stderr, "%-28s %-8s %5.0fs %s\n", m.Name, r.Outcome, r.Seconds, r.Detail)
		results = append(results, r)
	}
	return report(stdout, results, time.Since(t0))
}

func report(w io.Writer, results []Result, took time.Duration) error {
	sum := struct {
		Mutants  int      `json:"mutants"`
		Killed   int      `json:"killed"`
		Survived []string `json:"survived"`
		Invalid  []string `json:"invalid"`
		Seconds  float64  `json:"seconds"`
		Results  []Result `json:"results"`
	}{Mutants: len(results), Survived: []string{}, Invalid: []string{}, Seconds: took.Round(time.Second).Seconds(),
		Results: results}
	for _, r := range results {
		switch r.Outcome {
		case Killed:
			sum.Killed++
		case Survived:
			sum.Survived = append(sum.Survived, r.Name)
		default:
			sum.Invalid = append(sum.Invalid, r.Name)
		}
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, string(b))
	if len(sum.Survived)+len(sum.Invalid) > 0 {
		return fmt.Errorf("%d of %d bugs survived the tests %v, %d no longer apply or do not compile %v",
			len(sum.Survived), len(results), sum.Survived, len(sum.Invalid), sum.Invalid)
	}
	return nil
}

// runOne applies m in the scratch tree, runs its packages' tests and restores the file.
func runOne(ctx context.Context, scratch string, m Mutant, timeout time.Duration) Result {
	t0 := time.Now()
	res := func(outcome, detail string) Result {
		return Result{Name: m.Name, Outcome: outcome, Detail: detail, Seconds: time.Since(t0).Seconds()}
	}
	path := filepath.Join(scratch, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return res(Invalid, err.Error())
	}
	mutated, err := apply(orig, m)
	if err != nil {
		return res(Invalid, err.Error())
	}
	if err := replaceFile(path, mutated); err != nil {
		return res(Invalid, err.Error())
	}
	defer replaceFile(path, orig) //nolint:errcheck // the scratch tree is deleted at the end anyway
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if out, err := goCmd(ctx, scratch, append([]string{"vet"}, m.Packages...)...); err != nil {
		return res(Invalid, "does not build: "+lastLines(out, 3))
	}
	out, err := goCmd(ctx, scratch, append([]string{"test", "-count=1"}, m.Packages...)...)
	switch {
	case ctx.Err() != nil:
		return res(Killed, "tests timed out")
	case err != nil:
		return res(Killed, failingTest(out))
	}
	return res(Survived, "the tests passed with the bug in place")
}

// apply replaces the single occurrence of m.Old.
func apply(src []byte, m Mutant) ([]byte, error) {
	if n := bytes.Count(src, []byte(m.Old)); n != 1 {
		return nil, fmt.Errorf("%s: the code to mutate occurs %d times (want 1): update the list", m.File, n)
	}
	return bytes.Replace(src, []byte(m.Old), []byte(m.New), 1), nil
}

// replaceFile writes data to a new file renamed over path.
func replaceFile(path string, data []byte) error {
	tmp := path + ".mutant"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func failingTest(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") {
			return strings.TrimSpace(line)
		}
	}
	return lastLines(out, 1)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not in a git checkout: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// copyTree copies every tracked and untracked-but-not-ignored file of root into
// dst and links root's .cache.
func copyTree(ctx context.Context, root, dst string) error {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z", "--cached", "--others",
		"--exclude-standard").Output()
	if err != nil {
		return err
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(src) // copied, not linked: edits to the tree during a run stay out
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, data, fi.Mode().Perm()); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".cache")); err == nil {
		return os.Symlink(filepath.Join(root, ".cache"), filepath.Join(dst, ".cache"))
	}
	return nil
}
