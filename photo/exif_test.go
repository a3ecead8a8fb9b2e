package photo

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/photo/phototest"
)

// jpegWith is a minimal JPEG prefix (SOI) carrying app, then an EOI.
func jpegWith(app ...[]byte) []byte {
	b := []byte{0xFF, 0xD8}
	for _, a := range app {
		b = append(b, a...)
	}
	return append(b, 0xFF, 0xD9)
}

func TestExif(t *testing.T) {
	when := time.Date(2019, 8, 24, 17, 5, 9, 0, time.UTC)
	empty := []byte{0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0} // an Exif segment with no TIFF data
	for _, tc := range []struct {
		name        string
		data        []byte
		orientation int
		captured    time.Time
	}{
		{"orientation 6 and a capture time", jpegWith(phototest.ExifAPP1(6, "2019:08:24 17:05:09")), 6, when},
		{"orientation 1", jpegWith(phototest.ExifAPP1(1, "2019:08:24 17:05:09")), 1, when},
		{"invalid orientation 9 reads as 1", jpegWith(phototest.ExifAPP1(9, "2019:08:24 17:05:09")), 1, when},
		{"unparsable time", jpegWith(phototest.ExifAPP1(3, "yesterday")), 3, time.Time{}},
		{"an empty Exif segment first", jpegWith(empty, phototest.ExifAPP1(8, "2019:08:24 17:05:09")), 8, when},
		{"no Exif", jpegWith(), 1, time.Time{}},
		{"not a JPEG", []byte("GIF89a"), 1, time.Time{}},
		{"truncated segment", jpegWith(phototest.ExifAPP1(6, "2019:08:24 17:05:09")[:20]), 1, time.Time{}},
	} {
		if o := Orientation(tc.data); o != tc.orientation {
			t.Errorf("%s: orientation %d, want %d", tc.name, o, tc.orientation)
		}
		if c := CaptureTime(JPEGExif(tc.data)); !c.Equal(tc.captured) {
			t.Errorf("%s: capture time %v, want %v", tc.name, c, tc.captured)
		}
	}
}

// FuzzExif: the EXIF readers (JPEG APP1 segments, TIFF structures) never panic, and an
// orientation is always 1..8.
func FuzzExif(f *testing.F) {
	f.Add(jpegWith(phototest.ExifAPP1(6, "2019:08:24 17:05:09")))
	f.Add(phototest.ExifAPP1(1, "2001:02:03 04:05:06")[10:])
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x02})
	if b, err := os.ReadFile(filepath.Join("..", "encoder", "testdata", "photos", "hubble_deep_field.jpg")); err == nil {
		f.Add(b[:min(len(b), 4096)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := Orientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d outside 1..8", o)
		}
		CaptureTime(JPEGExif(b))
		CaptureTime(b)
	})
}
