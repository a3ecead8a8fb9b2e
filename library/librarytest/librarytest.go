// Package librarytest has the checks of a data dir that the tests of several packages share:
// the stored paths, the thumbnails that fail to decode, and generated scenes to index.
package librarytest

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// Paths lists every stored image path, sorted.
func Paths(tb testing.TB, db *store.DB) []string {
	tb.Helper()
	var out []string
	for after := uint64(0); ; {
		page, next, err := db.Images(after, 1000)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range page {
			out = append(out, r.Path)
		}
		if next == 0 || len(page) == 0 {
			break
		}
		after = next
	}
	sort.Strings(out)
	return out
}

// BrokenThumbs counts the stored images whose thumbnail is missing or does not decode.
func BrokenThumbs(tb testing.TB, lib *library.Library) int {
	tb.Helper()
	bad := 0
	for after := uint64(0); ; {
		recs, next, err := lib.DB().Images(after, 500)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range recs {
			data, err := os.ReadFile(lib.ThumbPath(r.SHA256))
			if err == nil {
				_, err = jpeg.Decode(bytes.NewReader(data))
			}
			if err != nil {
				bad++
			}
		}
		if next == 0 || len(recs) == 0 {
			return bad
		}
		after = next
	}
}

// WriteScenes writes n PNG scenes of seed 7 (from index start) of size px into dir as
// scene-NNNNN.png.
func WriteScenes(tb testing.TB, dir string, start, n, size int) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for i := start; i < start+n; i++ {
		img, err := scene.Render(scene.NewScene(7, i), size)
		if err != nil {
			tb.Fatal(err)
		}
		var b bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("scene-%05d.png", i)), b.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// Open opens a library in dir (a temporary one when "") without fsync, closed at cleanup.
func Open(tb testing.TB, dir string) *library.Library {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	lib, err := library.Open(dir, library.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lib.Close() })
	return lib
}
