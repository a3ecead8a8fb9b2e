package indexer

import (
	"bytes"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/photo"
)

var encTextOpts = encoder.TextOptions{}

// TestScaledDecode compares the model input of the scaled decode with a full decode on
// the sample JPEGs and on a 12-megapixel upscale of one: the pixels differ only a little.
func TestScaledDecode(t *testing.T) {
	m, info := testModel(t)
	lib := testLib(t, "")
	full, err := New(lib, m, info, Options{FullDecode: true})
	if err != nil {
		t.Fatal(err)
	}
	scaled, _ := New(lib, m, info, Options{})
	rocket, err := os.ReadFile(filepath.Join("..", "encoder", "testdata", "photos", "rocket.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	hubble, err := os.ReadFile(filepath.Join("..", "encoder", "testdata", "photos", "hubble_deep_field.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := imaging.Decode(bytes.NewReader(rocket))
	if err != nil {
		t.Fatal(err)
	}
	big := encodeJPEG(t, imaging.Resize(src, 4000, 3000, imaging.Linear), 90)
	for name, data := range map[string][]byte{"rocket": rocket, "hubble": hubble, "rocket 4000x3000": big} {
		a, err := full.decode(data, photo.FormatJPEG, true)
		if err != nil {
			t.Fatal(err)
		}
		b, err := scaled.decode(data, photo.FormatJPEG, true)
		if err != nil {
			t.Fatal(err)
		}
		if a.w != b.w || a.h != b.h {
			t.Fatalf("%s: sizes %dx%d and %dx%d", name, a.w, a.h, b.w, b.h)
		}
		pa, _ := m.Preprocessor().Pixels(a.img)
		pb, _ := m.Preprocessor().Pixels(b.img)
		cos := cosine(pa, pb)
		out, err := m.Vision.EncodePixels(t.Context(), append(pa, pb...), encoder.VisionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ecos := cosine(out.Embeds[0], out.Embeds[1])
		t.Logf("%s: scaled decode %v, model input cosine %.5f, embedding cosine %.5f", name, b.img.Bounds().Size(), cos, ecos)
		if cos < 0.99 || ecos < 0.95 {
			t.Errorf("%s: cosine %.4f (input), %.4f (embedding) between full and scaled decode", name, cos, ecos)
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

var _ image.Image = (*image.RGBA)(nil)

// TestDecodeOrientationForModel: a model whose manifest says exif_transpose false gets the
// JPEG as stored, while the thumbnail's image and the recorded size stay upright; by default
// the model's input is the upright image. Both decode paths: libjpeg-turbo scaled and full.
func TestDecodeOrientationForModel(t *testing.T) {
	m, info := testModel(t)
	lib := testLib(t, "")
	j := encodeJPEG(t, gradient(400, 200), 90)
	data := append(append([]byte{0xFF, 0xD8}, app1Exif(6, "2019:08:24 17:05:09")...), j[2:]...)
	stored := m.Manifest.Image
	stored.EXIFTranspose = new(bool)
	cases := []struct {
		name        string
		spec        encoder.ImageSpec
		full        bool
		modelW      int // the model input's width (its height is the other side)
		transposeOK bool
	}{
		{"default, scaled", m.Manifest.Image, false, 200, true},
		{"default, full", m.Manifest.Image, true, 200, true},
		{"exif_transpose false, scaled", stored, false, 400, false},
		{"exif_transpose false, full", stored, true, 400, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := New(lib, m, info, Options{FullDecode: tc.full})
			if err != nil {
				t.Fatal(err)
			}
			if ix.pre, err = encoder.NewPreprocessor(tc.spec, encoder.ImageOptions{}); err != nil {
				t.Fatal(err)
			}
			if ix.pre.EXIFTranspose() != tc.transposeOK {
				t.Fatalf("EXIFTranspose %v, want %v", ix.pre.EXIFTranspose(), tc.transposeOK)
			}
			d, err := ix.decode(data, photo.FormatJPEG, true)
			if err != nil {
				t.Fatal(err)
			}
			up, mod := d.img.Bounds(), d.model.Bounds()
			if d.w != 200 || d.h != 400 || up.Dx()*2 != up.Dy() {
				t.Errorf("recorded %dx%d, thumbnail image %v: want both upright (portrait)", d.w, d.h, up.Size())
			}
			// Scaled decodes shrink both sides alike: compare the shape.
			if wantW := tc.modelW * up.Dy() / 400; mod.Dx() != wantW {
				t.Errorf("model input %v, want width %d", mod.Size(), wantW)
			}
			// The model's input is what the preprocessor's own decoder gives.
			want, err := ix.pre.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pa, _ := ix.pre.Pixels(d.model)
			pb, _ := ix.pre.Pixels(want)
			if c := cosine(pa, pb); c < 0.99 {
				t.Errorf("model input cosine %.4f with Preprocessor.Decode's image", c)
			}
		})
	}
}
