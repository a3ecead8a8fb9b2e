package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
)

// scenes renders n small scenes into a temporary folder.
func scenes(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		img, err := scene.Render(scene.NewScene(7, i), 48)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("scene-%05d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// statusJSON returns `indexer status --json` of a data dir.
func statusJSON(t *testing.T, data string) indexer.Stats {
	t.Helper()
	out, _, err := runCmd(t, "status", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s indexer.Stats
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	return s
}

// TestAddCompacts: a bulk add in small batches fragments the file; add compacts it to under
// library.DefaultCompactRatio times its data before it returns.
func TestAddCompacts(t *testing.T) {
	src := scenes(t, 400)
	data := t.TempDir()
	out, errOut, err := runCmd(t, "add", "--data", data, "--batch", "8", src)
	if err != nil || !strings.Contains(out, "400 indexed") || !strings.Contains(out, "database compacted: ") {
		t.Fatalf("add: %q %q %v", out, errOut, err)
	}
	s := statusJSON(t, data)
	if live := s.VectorGraphBytes + s.RecordBytes; float64(s.DBBytes) > library.DefaultCompactRatio*float64(live) {
		t.Errorf("file %d bytes for %d of data: %+v", s.DBBytes, live, s)
	}
	t.Log(strings.TrimSpace(out))
}

func TestCompact(t *testing.T) {
	data := t.TempDir()
	if _, _, err := runCmd(t, "add", "--data", data, photos(t)); err != nil {
		t.Fatal(err)
	}
	before := statusJSON(t, data)
	out, _, err := runCmd(t, "compact", "--data", data)
	if err != nil || !strings.Contains(out, "database compacted: ") || !strings.Contains(out, " -> ") ||
		!strings.Contains(out, "x its vectors+graph") {
		t.Fatalf("compact: %q %v", out, err)
	}
	after := statusJSON(t, data)
	if after.DBBytes >= before.DBBytes || after.Images != before.Images || after.Embeddings != before.Embeddings ||
		after.VectorGraphBytes != before.VectorGraphBytes || after.DBRatio <= 0 {
		t.Errorf("before %+v\nafter %+v", before, after)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, _, err := runCmd(t, "compact", "--data", missing); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("compact of a missing data dir: %v", err)
	}
}
