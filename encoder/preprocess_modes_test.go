package encoder

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/photo"
)

// jpegTolerance is the largest difference, in 8-bit levels, accepted between Go's and Pillow's
// preprocessing of the JPEG goldens: the two decoders' IDCTs differ by about one level, and
// the resize spreads it (measured: 1). A wrong orientation is off by over 100 levels.
const jpegTolerance = 2

// preprocessGolden is one testdata/preprocess/<case>/<mode>.json, written by
// tools/goldens/pil_preprocess.py: the image section and Pillow's 8-bit RGB result.
type preprocessGolden struct {
	Spec ImageSpec `json:"spec"`
	RGB  []byte    `json:"rgb"` // S x S x 3, base64 in the file
}

// preprocessCase is a testdata/preprocess case: its input file and its goldens by mode.
type preprocessCase struct {
	name, input string
	data        []byte
	modes       map[string]preprocessGolden
}

func loadPreprocessCases(t *testing.T) []preprocessCase {
	t.Helper()
	dirs, err := filepath.Glob("testdata/preprocess/*")
	if err != nil {
		t.Fatal(err)
	}
	var cases []preprocessCase
	for _, d := range dirs {
		inputs, _ := filepath.Glob(filepath.Join(d, "input.*"))
		if len(inputs) != 1 {
			t.Fatalf("%s: %d input files, want 1", d, len(inputs))
		}
		c := preprocessCase{name: filepath.Base(d), input: inputs[0], modes: map[string]preprocessGolden{}}
		if c.data, err = os.ReadFile(inputs[0]); err != nil {
			t.Fatal(err)
		}
		goldens, _ := filepath.Glob(filepath.Join(d, "*.json"))
		for _, f := range goldens {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g preprocessGolden
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(g.RGB) != 3*g.Spec.Size*g.Spec.Size {
				t.Fatalf("%s: %d bytes of RGB, want 3 x %d²", f, len(g.RGB), g.Spec.Size)
			}
			c.modes[strings.TrimSuffix(filepath.Base(f), ".json")] = g
		}
		cases = append(cases, c)
	}
	if len(cases) < 9 {
		t.Fatalf("found %d preprocessing cases, want 9 (run tools/goldens/pil_preprocess.py)", len(cases))
	}
	return cases
}

// goResized is the Go preprocessing of a file under spec, as packed 8-bit RGB.
func goResized(t *testing.T, spec ImageSpec, data []byte) []byte {
	t.Helper()
	p, err := NewPreprocessor(spec, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Resized(img)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 0, 3*p.size*p.size)
	for i := 0; i < len(res.Pix); i += 4 {
		out = append(out, res.Pix[i:i+3]...)
	}
	return out
}

// maxByteDiff is the largest difference of two byte slices of one length, and its index.
func maxByteDiff(a, b []byte) (d, at int) {
	for i := range a {
		if v := max(int(a[i])-int(b[i]), int(b[i])-int(a[i])); v > d {
			d, at = v, i
		}
	}
	return d, at
}

// TestPreprocessMatchesPillow: every image mode reproduces Pillow's preprocessing of the
// testdata/preprocess inputs: bit for bit for lossless inputs, within jpegTolerance for JPEGs.
func TestPreprocessMatchesPillow(t *testing.T) {
	for _, c := range loadPreprocessCases(t) {
		for mode, g := range c.modes {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				got := goResized(t, g.Spec, c.data)
				limit := 0
				if filepath.Ext(c.input) == ".jpg" {
					limit = jpegTolerance
				}
				if d, at := maxByteDiff(got, g.RGB); d > limit {
					s := g.Spec.Size
					t.Errorf("pixel (%d,%d) channel %d = %d, Pillow %d: off by %d, over %d", at/3%s, at/3/s, at%3,
						got[at], g.RGB[at], d, limit)
				}
			})
		}
	}
}

// TestPreprocessModesDiffer: within a case, every two modes give different pixels in Go, so a
// mode the preprocessing silently ignored could not match both goldens.
func TestPreprocessModesDiffer(t *testing.T) {
	for _, c := range loadPreprocessCases(t) {
		t.Run(c.name, func(t *testing.T) {
			out := map[string][]byte{}
			for mode, g := range c.modes {
				out[mode] = goResized(t, g.Spec, c.data)
			}
			limit := 0 // lossless: the modes must differ at all
			if filepath.Ext(c.input) == ".jpg" {
				limit = jpegTolerance // and by more than the decoders do
			}
			for a := range out {
				for b := range out {
					if d, _ := maxByteDiff(out[a], out[b]); a < b && d <= limit {
						t.Errorf("modes %s and %s differ by at most %d levels", a, b, d)
					}
				}
			}
		})
	}
}

// TestImageModeSemantics: each mode changes the output where, and as, it should.
func TestImageModeSemantics(t *testing.T) {
	// 8 x 4 NRGBA: left half transparent black, right half opaque green; a paletted twin.
	halfClear := image.NewNRGBA(image.Rect(0, 0, 8, 4))
	fill(halfClear, image.Rect(4, 0, 8, 4), color.NRGBA{0, 200, 0, 255})
	pal := image.NewPaletted(image.Rect(0, 0, 8, 4), color.Palette{color.NRGBA{10, 20, 30, 0},
		color.NRGBA{0, 200, 0, 255}})
	fill(pal, image.Rect(4, 0, 8, 4), pal.Palette[1])
	// 30 x 24 with a distinct value in each column: its centre crop's first column shows the
	// crop offset.
	columns := image.NewGray(image.Rect(0, 0, 30, 24))
	for x := range 30 {
		fill(columns, image.Rect(x, 0, x+1, 24), color.Gray{uint8(8 * x)})
	}
	spec := func(size int, resize, alpha, rounding string) ImageSpec {
		s := testSpec(resize)
		s.Size, s.Alpha, s.CropRounding = size, alpha, rounding
		return s
	}
	resized := func(t *testing.T, s ImageSpec, img image.Image) *image.RGBA {
		t.Helper()
		p, err := NewPreprocessor(s, ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Resized(img)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"composite makes a transparent black pixel white, drop black", func(t *testing.T) {
			for alpha, want := range map[string]color.RGBA{AlphaComposite: {255, 255, 255, 255},
				AlphaDrop: {0, 0, 0, 255}, AlphaDropAfterResize: {0, 0, 0, 255}} {
				if got := resized(t, spec(8, ResizeSquash, alpha, ""), halfClear).RGBAAt(0, 0); got != want {
					t.Errorf("%s: pixel (0,0) = %v, want %v", alpha, got, want)
				}
			}
		}},
		{"drop un-premultiplies an image.RGBA as color.NRGBAModel does", func(t *testing.T) {
			m := image.NewRGBA(image.Rect(0, 0, 8, 4))
			fill(m, image.Rect(0, 0, 4, 4), color.RGBA{100, 50, 0, 128})
			fill(m, image.Rect(4, 0, 8, 4), color.RGBA{90, 90, 90, 0}) // invalid, but alpha 0 is black
			out := resized(t, spec(8, ResizeSquash, AlphaDrop, ""), m)
			if got, want := out.RGBAAt(0, 0), (color.RGBA{199, 99, 0, 255}); got != want {
				t.Errorf("pixel (0,0) = %v, want %v", got, want)
			}
			if got := out.RGBAAt(7, 0); got != (color.RGBA{0, 0, 0, 255}) {
				t.Errorf("pixel (7,0) = %v, want black", got)
			}
		}},
		{"drop keeps a transparent palette entry's colour", func(t *testing.T) {
			if got := resized(t, spec(8, ResizeSquash, AlphaDrop, ""), pal).RGBAAt(0, 0); got != (color.RGBA{10, 20, 30, 255}) {
				t.Errorf("pixel (0,0) = %v, want the stored {10 20 30}", got)
			}
		}},
		{"drop_after_resize resamples premultiplied: the edge is darker than drop's", func(t *testing.T) {
			// Upscaled, the pixels by the edge mix the transparent half in: premultiplied its
			// black does not bleed into the green, so drop_after_resize stays pure green where
			// drop's green is pulled down by the black colour channels.
			drop := resized(t, spec(16, ResizeSquash, AlphaDrop, ""), halfClear).RGBAAt(8, 0)
			after := resized(t, spec(16, ResizeSquash, AlphaDropAfterResize, ""), halfClear).RGBAAt(8, 0)
			if after.G < 197 || after.G > 203 || drop.G >= 180 {
				t.Errorf("pixel (8,0): drop_after_resize %v (want G 200 ± 3), drop %v (want G < 180)", after, drop)
			}
		}},
		{"drop_after_resize resizes a paletted image with NEAREST", func(t *testing.T) {
			out := resized(t, spec(6, ResizeSquash, AlphaDropAfterResize, ""), pal)
			bic := resized(t, spec(6, ResizeSquash, AlphaDrop, ""), pal)
			for x := range 6 {
				got, want := out.RGBAAt(x, 0), color.RGBA{10, 20, 30, 255}
				if x >= 3 {
					want = color.RGBA{0, 200, 0, 255}
				}
				if got != want {
					t.Errorf("pixel (%d,0) = %v, want palette colour %v", x, got, want)
				}
			}
			if bic.RGBAAt(2, 0) == out.RGBAAt(2, 0) {
				t.Errorf("bicubic (drop) and NEAREST (drop_after_resize) agree at the edge: %v", bic.RGBAAt(2, 0))
			}
		}},
		{"floor crops one column left of half_even", func(t *testing.T) {
			// 30x24 -> 15x12, excess 3: half_even starts at column 2, floor at 1.
			even := resized(t, spec(12, ResizeCenterCrop, "", CropHalfEven), columns)
			floor := resized(t, spec(12, ResizeCenterCrop, "", CropFloor), columns)
			def := resized(t, spec(12, ResizeCenterCrop, "", ""), columns)
			if !bytes.Equal(def.Pix, even.Pix) {
				t.Error("the default crop rounding is not half_even")
			}
			for x := range 11 {
				if floor.RGBAAt(x+1, 5) != even.RGBAAt(x, 5) {
					t.Fatalf("floor column %d = %v, half_even column %d = %v: not shifted by one", x+1,
						floor.RGBAAt(x+1, 5), x, even.RGBAAt(x, 5))
				}
			}
			if floor.RGBAAt(0, 5) == even.RGBAAt(0, 5) {
				t.Error("floor and half_even start at the same column")
			}
		}},
		{"exif_transpose false decodes the JPEG as stored", func(t *testing.T) {
			data := withOrientation(encodeJPEG(t, halves(40, 20)), 6, binary.BigEndian)
			for _, tc := range []struct {
				transpose *bool
				w, h      int
			}{{nil, 20, 40}, {ptr(true), 20, 40}, {ptr(false), 40, 20}} {
				s := testSpec(ResizeSquash)
				s.EXIFTranspose = tc.transpose
				p, err := NewPreprocessor(s, ImageOptions{})
				if err != nil {
					t.Fatal(err)
				}
				img, err := p.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h || p.EXIFTranspose() != (tc.transpose == nil || *tc.transpose) {
					t.Errorf("exif_transpose %v: decoded %dx%d, EXIFTranspose %v; want %dx%d", fmtPtr(tc.transpose), b.Dx(),
						b.Dy(), p.EXIFTranspose(), tc.w, tc.h)
				}
			}
			// photo.Decode itself: upright unless asked.
			if img, err := photo.Decode(data, ImageOptions{KeepOrientation: true}); err != nil || img.Bounds().Dx() != 40 {
				t.Errorf("KeepOrientation: %v, %v", img.Bounds(), err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}

func ptr[T any](v T) *T { return &v }

func fmtPtr(b *bool) string {
	if b == nil {
		return "absent"
	}
	return fmt.Sprint(*b)
}

// TestImageSpecModeValidation: the new fields accept their values (and absence) and reject
// anything else, naming the field.
func TestImageSpecModeValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(s *ImageSpec)
		field string // "" when valid
	}{
		{"defaults", func(s *ImageSpec) {}, ""},
		{"composite", func(s *ImageSpec) { s.Alpha = AlphaComposite }, ""},
		{"drop", func(s *ImageSpec) { s.Alpha = AlphaDrop }, ""},
		{"drop_after_resize", func(s *ImageSpec) { s.Alpha = AlphaDropAfterResize }, ""},
		{"half_even", func(s *ImageSpec) { s.CropRounding = CropHalfEven }, ""},
		{"floor", func(s *ImageSpec) { s.CropRounding = CropFloor }, ""},
		{"exif_transpose false", func(s *ImageSpec) { s.EXIFTranspose = ptr(false) }, ""},
		{"unknown alpha", func(s *ImageSpec) { s.Alpha = "premultiply" }, "image.alpha"},
		{"alpha in capitals", func(s *ImageSpec) { s.Alpha = "Drop" }, "image.alpha"},
		{"unknown crop rounding", func(s *ImageSpec) { s.CropRounding = "round" }, "image.crop_rounding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec(ResizeCenterCrop)
			tc.edit(&s)
			_, err := NewPreprocessor(s, ImageOptions{})
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.field != "" && (err == nil || !errors.Is(err, ErrBadBundle) || !strings.Contains(err.Error(), tc.field)):
				t.Fatalf("error %v, want ErrBadBundle naming %s", err, tc.field)
			}
		})
	}
	// Through the manifest: JSON names, and an absent field keeps the default.
	var m struct {
		Image ImageSpec `json:"image"`
	}
	raw := `{"image": {"size": 8, "resize": "shorter_side_center_crop", "interpolation": "bicubic",
		"mean": [0, 0, 0], "std": [1, 1, 1], "alpha": "drop_after_resize", "exif_transpose": false,
		"crop_rounding": "floor"}}`
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	p, err := NewPreprocessor(m.Image, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.alpha != alphaDropAfterResize || !p.floor || p.EXIFTranspose() {
		t.Errorf("parsed alpha %d floor %v exif_transpose %v, want drop_after_resize, true, false", p.alpha, p.floor,
			p.EXIFTranspose())
	}
}
