package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRun feeds recorded `go test -json` streams through Run and compares what it writes with
// golden files. The streams come from a small module, example.com/sample, with a passing, a
// skipped and a GLIMPSE_BENCH-gated test and subtests (a), a failing subtest (b), a build error
// (c), no test files (d), a panic (e) and a TestMain that exits 3 (f): mixed is all of them, pass
// is a and d, interrupted is the start of pass cut off inside a test after a non-JSON line.
//
//	testdata/<case>/input.json       the stream
//	testdata/<case>/output.golden    progress and summary written to stdout
//	testdata/<case>/summary.golden   the summary file (-o)
func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		want    []string // in the summary file
	}{
		{"mixed", nil, ErrFailed, []string{
			"go: 5 passed, 2 failed, 2 skipped, 2 packages failed (6 packages); benchmark reports not run: 1 (make bench-*)",
			"FAIL package c: build failed",
			"FAIL package f: failed outside any test",
			"FAIL b TestFails/inner: got 1, want 2 (b_test.go:10)\n",
			"FAIL e TestPanics: panic: assignment to entry in nil map [recovered, repanicked]\n",
			"skipped a TestSkip: no tool found (apt-get install tool) (a_test.go:12)",
			"skipped a TestSub/two: two is multiline (a_test.go:23)",
			"benchmark reports not run (GLIMPSE_BENCH=1): a TestBenchReport",
		}},
		{"pass", []string{"-suite", "unit"}, nil, []string{"unit: 3 passed, 0 failed, 2 skipped (2 packages); benchmark reports not run: 1 (make bench-*)"}},
		{"verbose", []string{"-v"}, ErrFailed, []string{"go: 5 passed, 2 failed"}},
		{"interrupted", nil, ErrFailed, []string{"go: 1 passed, 1 failed, 0 skipped (0 packages); no package ran to the end",
			"FAIL a TestSkip (no result: the run ended first)"}},
		{"empty", nil, ErrFailed, []string{"go: 0 passed, 0 failed, 0 skipped (0 packages); no package ran to the end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", tt.name)
			in := filepath.Join(dir, "input.json")
			if tt.name == "verbose" {
				in = filepath.Join("testdata", "mixed", "input.json")
			}
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sumPath := filepath.Join(t.TempDir(), "sub", "go.txt")
			args := append([]string{"-module", "example.com/sample", "-o", sumPath}, tt.args...)
			var stdout, stderr strings.Builder
			err = Run(args, f, &stdout, &stderr)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Run: %v, want %v; stderr: %s", err, tt.wantErr, stderr.String())
			}
			sum, err := os.ReadFile(sumPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(sum), w) {
					t.Errorf("summary lacks %q:\n%s", w, sum)
				}
			}
			if !strings.HasSuffix(stdout.String(), string(sum)) {
				t.Errorf("stdout does not end with the summary:\n%s", stdout.String())
			}
			golden(t, filepath.Join(dir, "output.golden"), stdout.String())
			golden(t, filepath.Join(dir, "summary.golden"), string(sum))
		})
	}
}

// golden compares got with the file at path, or rewrites the file under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestSkipReason(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"none", []string{"=== RUN   TestX\n", "--- SKIP: TestX (0.00s)\n"}, "no reason given"},
		{"last entry wins", []string{"=== RUN   TestX\n", "    x_test.go:3: looking\n", "    x_test.go:4: not found\n",
			"--- SKIP: TestX (0.00s)\n"}, "not found (x_test.go:4)"},
		{"continuation", []string{"    x_test.go:4: two\n", "        lines\n"}, "two lines (x_test.go:4)"},
		{"stray output ignored", []string{"    x_test.go:4: why\n", "printed by the code\n"}, "why (x_test.go:4)"},
		{"long", []string{"    x_test.go:4: " + strings.Repeat("é", 300) + "\n"}, strings.Repeat("é", 200) + "... (x_test.go:4)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := skipReason(tt.lines); got != tt.want {
				t.Errorf("skipReason = %q, want %q", got, tt.want)
			}
		})
	}
}
