package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/searcher"
)

func TestRunDispatch(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		wantUsage bool
		wantOut   string
	}{
		{"no command", nil, true, ""},
		{"unknown command", []string{"index"}, true, ""},
		{"help", []string{"help"}, false, "verify-model"},
		{"--help lists score", []string{"--help"}, false, "score --image FILE"},
		{"help names the env var", []string{"-h"}, false, cli.EnvORTLib},
		{"bad flag", []string{"score", "--nope"}, true, ""},
		{"verify-model too many args", []string{"verify-model", "a", "b"}, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), tc.args, &out, &errOut)
			var ue *cli.UsageError
			if got := errors.As(err, &ue); got != tc.wantUsage {
				t.Fatalf("Run(%q) = %v; usage error %v, want %v", tc.args, err, got, tc.wantUsage)
			}
			if !tc.wantUsage && err != nil {
				t.Fatalf("Run(%q) = %v", tc.args, err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q does not contain %q", out.String(), tc.wantOut)
			}
		})
	}
}

// TestErrorLine runs bad command lines and checks the line main prints: "searcher: " once,
// and no context repeated (the searcher package's prefix and the store's "image N" are
// context the command must not add a second time).
func TestErrorLine(t *testing.T) {
	l := testLib(t)
	notImage := filepath.Join(t.TempDir(), "notes.png")
	if err := os.WriteFile(notImage, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // the whole line
	}{
		{"bad rank", []string{"query", "--data", l.data, "--rank", "bm25", "x"},
			`searcher: --rank "bm25": want one of itm, itm+itc, itm_logit, itm_logit+itc`},
		{"bad tokens", []string{"caption", "--data", l.data, "--id", "1", "--tokens", "gpu"},
			`searcher: --tokens "gpu": want cache or recompute`},
		{"empty date range", []string{"query", "--data", l.data, "--from", "2024-02-01", "--to", "2024-01-01", "x"},
			"searcher: query: invalid query: date range from 2024-02-01 to "},
		{"caption of a missing id", []string{"caption", "--data", l.data, "--id", "999"},
			"searcher: caption: image 999: store: not found"},
		{"similar of a missing id", []string{"similar", "--data", l.data, "--id", "999"},
			"searcher: similar: image 999: store: not found"},
		{"explain of a missing id", []string{"explain", "--data", l.data, "--id", "999", "--text", "x", "--out", notImage + ".out.png"},
			"searcher: explain: image 999: store: not found"},
		{"caption of a file that is not an image", []string{"caption", "--data", l.data, "--image", notImage},
			"searcher: caption: " + notImage + ": query image: "},
		{"no index", []string{"query", "--data", "/nonexistent", "x"}, "searcher: no index in data dir /nonexistent "},
		{"unknown command", []string{"search", "--data", "/nonexistent", "x"}, `searcher: unknown command "search"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), tc.args, &out, &errOut)
			if err == nil {
				t.Fatalf("no error; output %q", out.String())
			}
			line := cli.ErrorLine("searcher", err)
			if !strings.HasPrefix(line, tc.want) {
				t.Errorf("printed %q, want it to begin %q", line, tc.want)
			}
			if n := strings.Count(line, "searcher:"); n != 1 {
				t.Errorf("printed %q: %d times \"searcher:\"", line, n)
			}
			parts := strings.Split(line, ": ")
			for i := 1; i < len(parts); i++ {
				if parts[i] == parts[i-1] {
					t.Errorf("printed %q: %q twice in a row", line, parts[i])
				}
			}
		})
	}
}

func TestOpError(t *testing.T) {
	cause := fmt.Errorf("%w: k 0", searcher.ErrInput)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"plain cause", wrap("query", errors.New("boom")), "query: boom"},
		{"searcher's prefix dropped", wrap("query", cause), "query: invalid query: k 0"},
		{"context not repeated", wrap("explain", errors.New("searcher: explain: no attention")), "explain: no attention"},
		{"nested", wrap("caption", wrap("a.png", errors.New("searcher: query image: bad"))), "caption: a.png: query image: bad"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
			if got := cli.ErrorLine("searcher", tc.err); got != progPrefix+tc.want {
				t.Errorf("line %q", got)
			}
		})
	}
	if !errors.Is(wrap("query", cause), searcher.ErrInput) {
		t.Error("the cause is lost")
	}
}
