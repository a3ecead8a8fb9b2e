package indexer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExif feeds arbitrary bytes to the EXIF readers (JPEG APP1 and TIFF), which must never
// panic.
func FuzzExif(f *testing.F) {
	f.Add(append(append([]byte{0xFF, 0xD8}, app1Exif(6, "2019:08:24 17:05:09")...), 0xFF, 0xD9))
	f.Add(app1Exif(1, "2001:02:03 04:05:06")[10:])
	if b, err := os.ReadFile(filepath.Join("..", "encoder", "testdata", "photos", "hubble_deep_field.jpg")); err == nil {
		f.Add(b[:min(len(b), 4096)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		captureTime(jpegExif(b))
		captureTime(b)
	})
}

// FuzzParseTexts: any texts file parses or fails with ErrBadTexts, never panics.
func FuzzParseTexts(f *testing.F) {
	f.Add([]byte("a red circle\n"))
	f.Add([]byte("{\"id\": 1, \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\"}\n"))
	f.Add([]byte("{\"id\": [}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := ParseTexts(bytes.NewReader(b))
		if err == nil {
			for _, l := range lines {
				if l.Text == "" {
					t.Fatalf("empty text at line %d", l.Line)
				}
			}
		}
	})
}
