package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/searcher"
)

func TestSimilar(t *testing.T) {
	l := testLib(t)
	var byFile searcher.ImageResult
	runJSON(t, &byFile, "similar", "--data", l.data, "--image", l.files[4], "--limit", "100")
	if len(byFile.Hits) != 12 || byFile.Hits[0].Path != l.files[4] || byFile.Hits[0].ITC < 0.999 {
		t.Fatalf("by file: %d hits, first %+v", len(byFile.Hits), byFile.Hits[0])
	}
	var byID searcher.ImageResult
	runJSON(t, &byID, "similar", "--data", l.data, "--id", "3", "--limit", "100")
	if len(byID.Hits) != 11 {
		t.Fatalf("by id: %d hits, want 11", len(byID.Hits))
	}
	for _, h := range byID.Hits {
		if h.ImageID == 3 {
			t.Fatal("by id: the query image is in the result")
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.png")
	if err := os.WriteFile(bad, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"similar", "--data", l.data},
		{"similar", "--data", l.data, "--image", l.files[0], "--id", "2"},
		{"similar", "--data", l.data, "--image", bad},
		{"similar", "--data", l.data, "--id", "999"},
	} {
		var out bytes.Buffer
		if err := Run(t.Context(), args, &out, &out); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	var ue *cli.UsageError
	if err := Run(t.Context(), []string{"similar", "--data", l.data}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ue) {
		t.Errorf("no image: %v, want a usage error", err)
	}
}
