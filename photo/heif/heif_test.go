package heif

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"
)

func sample(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "indexer", "testdata", "images", "sample.heic"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestDecode reads the sample's size, Exif and pixels, probes it without decoding, refuses
// pixels over the cap, and lets package image read it through the registered format.
func TestDecode(t *testing.T) {
	data := sample(t)
	for _, tc := range []struct {
		name      string
		maxPixels int64
		pixels    bool
		wantImg   bool
	}{
		{"decoded", 1 << 30, true, true},
		{"probed", 1 << 30, false, false},
		{"over the cap", 100, true, false},
	} {
		im, err := Decode(data, tc.maxPixels, tc.pixels)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if im.W != 96 || im.H != 64 || (im.Img != nil) != tc.wantImg || len(im.Exif) == 0 {
			t.Errorf("%s: %dx%d, pixels %v, %d Exif bytes", tc.name, im.W, im.H, im.Img != nil, len(im.Exif))
		}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != "heif" || cfg.Width != 96 || cfg.Height != 64 {
		t.Fatalf("image.DecodeConfig: %+v %q %v", cfg, format, err)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil || format != "heif" || img.Bounds().Dx() != 96 {
		t.Fatalf("image.Decode: %v %q %v", img, format, err)
	}
	if _, err := Decode(data[:len(data)/2], 1<<30, true); err == nil {
		t.Error("half a file decoded")
	}
}

// FuzzDecode: libheif must refuse, never crash on, arbitrary bytes behind a HEIF header.
func FuzzDecode(f *testing.F) {
	data := sample(f)
	f.Add(data)
	f.Add(data[:len(data)/3])
	f.Add(append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if im, err := Decode(b, 1<<22, true); err == nil && (im.W <= 0 || im.H <= 0) {
			t.Fatalf("decoded an image of %dx%d", im.W, im.H)
		}
	})
}
