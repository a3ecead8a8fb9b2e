package photo

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/hostile"
)

// TestJPEGScanLimit performs the attack: a 1024 x 1024 progressive JPEG of 400 near-empty scans
// (about 3 KB) is refused before any decoder runs, on Decode' path, while the same
// construction with a normal number of scans and real photographs pass the check.
func TestJPEGScanLimit(t *testing.T) {
	bomb := hostile.ProgressiveJPEG(1024, 1024, 400)
	if n := JPEGScans(bomb, -1); n != 400 {
		t.Fatalf("JPEGScans counted %d scans, want 400", n)
	}
	_, err := Decode(bomb, Options{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "scans") {
		t.Fatalf("a %d-byte JPEG of 400 scans: err %v, want the scan limit", len(bomb), err)
	}
	ok := hostile.ProgressiveJPEG(1024, 1024, 10)
	if err := CheckJPEG(ok); err != nil {
		t.Fatalf("10 scans refused: %v", err)
	}
	if n := JPEGScans(ok, -1); n != 10 {
		t.Fatalf("JPEGScans counted %d scans, want 10", n)
	}
	if _, err := jpeg.Decode(bytes.NewReader(hostile.ProgressiveJPEG(1024, 1024, 2))); err != nil {
		t.Fatalf("the generator writes invalid JPEGs: %v", err)
	}
	var base bytes.Buffer
	if err := jpeg.Encode(&base, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	if n := JPEGScans(base.Bytes(), -1); n != 1 {
		t.Fatalf("baseline JPEG: %d scans, want 1", n)
	}
	for _, bad := range [][]byte{nil, {0xFF}, {0xFF, 0xD8, 0xFF, 0xDA}, {0xFF, 0xD8, 0xFF, 0xDA, 0, 1}, bomb[:len(bomb)/2]} {
		JPEGScans(bad, MaxJPEGScans) // must not panic
	}
}

// FuzzJPEGScans: the scan counter never panics and never counts past its limit plus one.
func FuzzJPEGScans(f *testing.F) {
	f.Add(hostile.ProgressiveJPEG(1024, 1024, 3))
	var base bytes.Buffer
	_ = jpeg.Encode(&base, image.NewGray(image.Rect(0, 0, 16, 16)), nil)
	f.Add(base.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if n := JPEGScans(data, 5); n > 6 {
			t.Fatalf("counted %d scans past the limit 5", n)
		}
	})
}
