package encoder

import (
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-search/glimpse/internal/hostile"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/photo"
)

// seedFiles adds every file under testdata/images and the small photos as fuzz seeds.
func seedFiles(f *testing.F, maxSize int64) {
	for _, pat := range []string{"testdata/images/*", "testdata/photos/*"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if st, err := os.Stat(p); err != nil || st.Size() > maxSize {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

func FuzzDecodeImage(f *testing.F) {
	seedFiles(f, 32<<10)
	f.Add(encodePNG(f, halves(5, 3)))
	f.Add(pngHeaderOnly(70000, 70000))
	f.Add(withOrientation(encodeJPEG(f, halves(6, 4)), 6, binary.BigEndian))
	f.Add(hostile.ProgressiveJPEG(64, 48, 3)) // progressive: the scan counter and libjpeg-turbo's progressive path
	f.Add(hostile.PNG16(40, 30))              // 16-bit: the decoded-bytes cap
	pre := testPre(f)
	opts := ImageOptions{MaxPixels: 1 << 16, MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := photo.Decode(data, opts)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Empty() || int64(b.Dx())*int64(b.Dy()) > opts.MaxPixels {
			t.Fatalf("decoded %v past the cap", b)
		}
		if _, err := pre.Pixels(img); err != nil {
			t.Fatalf("preprocess a decoded %v image: %v", b, err)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	raw, err := fs.ReadFile(models.Default(), "model.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schema_version": 1, "graphs": {"itm": null}}`))
	f.Add([]byte(`{"schema_version": 1, "files": {"../x": "00"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// A valid manifest survives a round trip and gives a usable preprocessing.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(again); err != nil {
			t.Fatalf("re-parse of a valid manifest: %v", err)
		}
		if m.Graphs[GraphVision] == nil || m.Graphs[GraphText] == nil {
			t.Fatal("valid manifest without vision or text graph")
		}
		if _, err := NewPreprocessor(m.Image, ImageOptions{}); err != nil {
			t.Fatalf("valid manifest, bad image spec: %v", err)
		}
	})
}
