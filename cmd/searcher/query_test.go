package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/searcher"
)

func TestQuery(t *testing.T) {
	l := testLib(t)
	var all searcher.ImageResult
	runJSON(t, &all, "query", "--data", l.data, "--min-score", "0", "--limit", "100", "a small red circle")
	if all.Total != 12 || len(all.Hits) != 12 || all.Reranked != 12 || all.Hits[0].PMatch == nil {
		t.Fatalf("all: total %d, %d hits, %d reranked", all.Total, len(all.Hits), all.Reranked)
	}
	var page searcher.ImageResult
	runJSON(t, &page, "query", "--data", l.data, "--min-score", "0", "--limit", "3", "--offset", "3", "a small red circle")
	for i, h := range page.Hits {
		if h.ImageID != all.Hits[3+i].ImageID {
			t.Fatalf("page hit %d is %d, the full list has %d", i, h.ImageID, all.Hits[3+i].ImageID)
		}
	}
	var none searcher.ImageResult
	runJSON(t, &none, "query", "--data", l.data, "--min-score", "1.01", "a small red circle")
	if len(none.Hits) != 0 || !strings.HasPrefix(none.Reason, searcher.ReasonNoConfident) {
		t.Fatalf("min score 1.01: %d hits, reason %q", len(none.Hits), none.Reason)
	}
	var folder searcher.ImageResult
	prefix := filepath.Join(l.gallery, "b") + "/"
	runJSON(t, &folder, "query", "--data", l.data, "--min-score", "0", "--folder", prefix, "a circle")
	if len(folder.Hits) != 6 {
		t.Fatalf("folder b: %d hits, want 6", len(folder.Hits))
	}
	for _, h := range folder.Hits {
		if !strings.HasPrefix(h.Path, prefix) {
			t.Fatalf("hit %s outside %s", h.Path, prefix)
		}
	}
	var dated searcher.ImageResult // generated PNGs have no capture date
	runJSON(t, &dated, "query", "--data", l.data, "--from", "2020-01-01", "--to", "2030-12-31", "a circle")
	if len(dated.Hits) != 0 || dated.Reason != searcher.ReasonFiltered {
		t.Fatalf("date range: %d hits, reason %q", len(dated.Hits), dated.Reason)
	}
	var out bytes.Buffer
	if err := Run(t.Context(), []string{"query", "--data", l.data, "--min-score", "0", "--limit", "2", "a", "red", "circle"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1-2 of 12 results") || !strings.Contains(out.String(), "timings ms:") {
		t.Fatalf("text output %q", out.String())
	}
}

func TestQueryErrors(t *testing.T) {
	l := testLib(t)
	cases := []struct {
		name  string
		args  []string
		usage bool
		msg   string
	}{
		{"no text", []string{"query", "--data", l.data}, true, "empty"},
		{"blank text", []string{"query", "--data", l.data, "  "}, true, "empty"},
		{"k too large", []string{"query", "--data", l.data, "--k", "5000", "x"}, true, "--k"},
		{"negative k", []string{"query", "--data", l.data, "--k", "-2", "x"}, true, "--k"},
		{"limit 0 stays default, 2000 too large", []string{"query", "--data", l.data, "--limit", "2000", "x"}, true, "--limit"},
		{"negative offset", []string{"query", "--data", l.data, "--offset", "-1", "x"}, true, "--offset"},
		{"bad min score", []string{"query", "--data", l.data, "--min-score", "high", "x"}, true, ""},
		{"bad rank", []string{"query", "--data", l.data, "--rank", "bm25", "x"}, true, "rank"},
		{"bad tokens", []string{"query", "--data", l.data, "--tokens", "gpu", "x"}, true, "tokens"},
		{"bad date", []string{"query", "--data", l.data, "--from", "yesterday", "x"}, true, "--from"},
		{"empty date range", []string{"query", "--data", l.data, "--from", "2024-02-01", "--to", "2024-01-01", "x"}, false, "empty"},
		{"bad device", []string{"query", "--data", l.data, "--device", "tpu", "x"}, true, "device"},
		{"no index", []string{"query", "--data", filepath.Join(t.TempDir(), "nothing"), "x"}, false, "no index"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), tc.args, &out, &errOut)
			if err == nil {
				t.Fatalf("no error; output %q", out.String())
			}
			var ue *cli.UsageError
			if errors.As(err, &ue) != tc.usage {
				t.Fatalf("error %v: usage error %v, want %v", err, !tc.usage, tc.usage)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
	// a long query is cut by the tokenizer, not refused
	var long searcher.ImageResult
	runJSON(t, &long, "query", "--data", l.data, strings.Repeat("a small red circle ", 6000))
}
