package encoder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-search/glimpse/photo"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// testSpec is the default bundle's image section, without needing the bundle.
func testSpec(resize string) ImageSpec {
	return ImageSpec{Size: 80, Resize: resize, Interpolation: "bicubic",
		Mean: []float64{0.48145466, 0.4578275, 0.40821073}, Std: []float64{0.26862954, 0.26130258, 0.27577711}}
}

func testPre(tb testing.TB) *Preprocessor {
	tb.Helper()
	p, err := NewPreprocessor(testSpec(ResizeSquash), ImageOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// pngHeaderOnly is a PNG signature and IHDR chunk claiming w x h pixels, with no image data.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// withOrientation inserts an EXIF APP1 segment (IFD0 with one Orientation entry) after SOI.
func withOrientation(jpg []byte, o uint16, order binary.ByteOrder) []byte {
	var t bytes.Buffer
	if order == binary.LittleEndian {
		t.WriteString("II*\x00")
	} else {
		t.WriteString("MM\x00*")
	}
	binary.Write(&t, order, uint32(8))      // IFD0 offset
	binary.Write(&t, order, uint16(1))      // one entry
	binary.Write(&t, order, uint16(0x0112)) // Orientation
	binary.Write(&t, order, uint16(3))      // SHORT
	binary.Write(&t, order, uint32(1))      // count
	binary.Write(&t, order, o)
	binary.Write(&t, order, uint16(0))
	binary.Write(&t, order, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), t.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

// halves is a w x h image, left half red and right half blue.
func halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func fill(img interface{ Set(x, y int, c color.Color) }, b image.Rectangle, c color.Color) {
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			img.Set(x, y, c)
		}
	}
}

func readFixture(tb testing.TB, p string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", p))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestDecodeImageInputs(t *testing.T) {
	r := image.Rect(0, 0, 12, 8)
	gray := image.NewGray(r)
	fill(gray, r, color.Gray{77})
	gray16 := image.NewRGBA64(r)
	fill(gray16, r, color.RGBA64{0x8040, 0x1000, 0xff00, 0xffff})
	pal := image.NewPaletted(r, color.Palette{color.RGBA{10, 200, 30, 255}, color.RGBA{0, 0, 0, 255}})
	transparent := image.NewNRGBA(r)
	fill(transparent, r, color.NRGBA{0, 0, 0, 0})
	one := image.NewRGBA(image.Rect(0, 0, 1, 1))
	one.Set(0, 0, color.RGBA{1, 2, 3, 255})
	full := encodePNG(t, halves(16, 16))
	var gifBuf, bmpBuf, tiffBuf bytes.Buffer
	gif.Encode(&gifBuf, halves(10, 10), &gif.Options{NumColors: 4})
	bmp.Encode(&bmpBuf, halves(10, 10))
	tiff.Encode(&tiffBuf, halves(10, 10), nil)

	cases := []struct {
		name    string
		data    []byte
		opts    ImageOptions
		wantErr error
		w, h    int
		pixel   [3]uint8 // expected RGB at (0,0) after conversion, when w > 0
	}{
		{"zero bytes", nil, ImageOptions{}, ErrUnsupportedImage, 0, 0, [3]uint8{}},
		{"truncated PNG", full[:len(full)/2], ImageOptions{}, ErrUnsupportedImage, 0, 0, [3]uint8{}},
		{"not an image", []byte("GIF? no, a shopping list: eggs, milk"), ImageOptions{}, ErrUnsupportedImage, 0, 0, [3]uint8{}},
		{"header claims 100000x100000", pngHeaderOnly(100000, 100000), ImageOptions{}, ErrTooLarge, 0, 0, [3]uint8{}},
		{"over the byte cap", full, ImageOptions{MaxBytes: 10}, ErrTooLarge, 0, 0, [3]uint8{}},
		{"over a small pixel cap", full, ImageOptions{MaxPixels: 255}, ErrTooLarge, 0, 0, [3]uint8{}},
		{"grey PNG", encodePNG(t, gray), ImageOptions{}, nil, 12, 8, [3]uint8{77, 77, 77}},
		{"16-bit PNG", encodePNG(t, gray16), ImageOptions{}, nil, 12, 8, [3]uint8{0x80, 0x10, 0xff}},
		{"palette PNG", encodePNG(t, pal), ImageOptions{}, nil, 12, 8, [3]uint8{10, 200, 30}},
		{"transparent PNG composited on white", encodePNG(t, transparent), ImageOptions{}, nil, 12, 8, [3]uint8{255, 255, 255}},
		{"1x1 PNG", encodePNG(t, one), ImageOptions{}, nil, 1, 1, [3]uint8{1, 2, 3}},
		{"CMYK JPEG", readFixture(t, "images/cmyk.jpeg"), ImageOptions{}, nil, 150, 103, [3]uint8{}},
		{"WebP", readFixture(t, "images/lossy.webp"), ImageOptions{}, nil, 0, 0, [3]uint8{}},
		{"GIF", gifBuf.Bytes(), ImageOptions{}, nil, 10, 10, [3]uint8{}},
		{"BMP", bmpBuf.Bytes(), ImageOptions{}, nil, 10, 10, [3]uint8{255, 0, 0}},
		{"TIFF", tiffBuf.Bytes(), ImageOptions{}, nil, 10, 10, [3]uint8{255, 0, 0}},
		{"EXIF orientation 6 swaps width and height", withOrientation(encodeJPEG(t, halves(40, 20)), 6, binary.BigEndian),
			ImageOptions{}, nil, 20, 40, [3]uint8{}},
	}
	pre := testPre(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := photo.Decode(tc.data, tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if tc.w > 0 && (b.Dx() != tc.w || b.Dy() != tc.h) {
				t.Errorf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
			rgb := toRGB(img, alphaRule{bg: [3]uint8{255, 255, 255}})
			if tc.pixel != ([3]uint8{}) {
				if got := [3]uint8(rgb.pix[:3]); got != tc.pixel {
					t.Errorf("pixel (0,0) = %v, want %v", got, tc.pixel)
				}
			}
			pix, err := pre.Pixels(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(pix) != 3*80*80 {
				t.Fatalf("len %d", len(pix))
			}
		})
	}
}

func TestDecodeImageReaderCap(t *testing.T) {
	data := encodePNG(t, halves(16, 16))
	if _, err := photo.Read(bytes.NewReader(data), ImageOptions{MaxBytes: int64(len(data) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over the cap: %v, want ErrTooLarge", err)
	}
	if _, err := photo.Read(bytes.NewReader(data), ImageOptions{MaxBytes: int64(len(data))}); err != nil {
		t.Errorf("exactly at the cap: %v", err)
	}
}

func TestDecodeHeaderRefusedBeforeDecoding(t *testing.T) {
	// The file holds nothing past IHDR: a decode attempt would fail with ErrUnsupportedImage.
	_, err := photo.Decode(pngHeaderOnly(100000, 100000), ImageOptions{})
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnsupportedImage) {
		t.Fatalf("err = %v, want ErrTooLarge only", err)
	}
}

func TestExifOrientationApplied(t *testing.T) {
	base := encodeJPEG(t, halves(40, 20)) // red left, blue right
	cases := []struct {
		name       string
		o          uint16
		order      binary.ByteOrder
		w, h       int
		first, end string // colour at the start and end of the long axis
	}{
		{"1 unchanged", 1, binary.BigEndian, 40, 20, "red", "blue"},
		{"2 mirrored", 2, binary.LittleEndian, 40, 20, "blue", "red"},
		{"3 rotated 180", 3, binary.BigEndian, 40, 20, "blue", "red"},
		{"6 rotated 90 clockwise (little endian)", 6, binary.LittleEndian, 20, 40, "red", "blue"},
		{"6 rotated 90 clockwise (big endian)", 6, binary.BigEndian, 20, 40, "red", "blue"},
		{"8 rotated 90 counter-clockwise", 8, binary.BigEndian, 20, 40, "blue", "red"},
		{"invalid 9 ignored", 9, binary.BigEndian, 40, 20, "red", "blue"},
	}
	colour := func(c color.Color) string {
		r, _, b, _ := c.RGBA()
		if r > b {
			return "red"
		}
		return "blue"
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := withOrientation(base, tc.o, tc.order)
			img, err := photo.Decode(data, ImageOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
			var first, end color.Color
			if tc.w > tc.h {
				first, end = img.At(b.Min.X+2, b.Min.Y+10), img.At(b.Max.X-3, b.Min.Y+10)
			} else {
				first, end = img.At(b.Min.X+10, b.Min.Y+2), img.At(b.Min.X+10, b.Max.Y-3)
			}
			if colour(first) != tc.first || colour(end) != tc.end {
				t.Errorf("long axis runs %s -> %s, want %s -> %s", colour(first), colour(end), tc.first, tc.end)
			}
		})
	}
}

func TestAlphaComposite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	img.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 0})      // transparent
	img.SetNRGBA(1, 0, color.NRGBA{255, 0, 0, 128})  // half red
	img.SetNRGBA(2, 0, color.NRGBA{10, 20, 30, 255}) // opaque
	got := toRGB(img, alphaRule{bg: [3]uint8{255, 255, 255}}).pix
	// Expected values from Pillow's integer alpha_composite over opaque white.
	want := []uint8{255, 255, 255, 255, 127, 127, 10, 20, 30}
	if !bytes.Equal(got, want) {
		t.Errorf("composited %v, want %v", got, want)
	}
	// Through the whole path: a fully transparent image becomes white before normalisation.
	tr := image.NewNRGBA(image.Rect(0, 0, 33, 17))
	res, err := testPre(t).Resized(tr)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res.Pix {
		if v != 255 {
			t.Fatalf("resized transparent image byte %d = %d, want 255 (white)", i, v)
		}
	}
}

func TestCenterCropGeometry(t *testing.T) {
	cases := []struct {
		name              string
		w, h, s           int
		floor             bool
		rw, rh, left, top int
	}{
		{"landscape 640x480", 640, 480, 224, false, 298, 224, 37, 0},
		{"portrait 480x640", 480, 640, 224, false, 224, 298, 0, 37},
		{"odd excess rounds half to even (0.5 -> 0)", 225, 224, 224, false, 225, 224, 0, 0},
		{"odd excess rounds half to even (1.5 -> 2)", 227, 224, 224, false, 227, 224, 2, 0},
		{"square upscale", 100, 100, 224, false, 224, 224, 0, 0},
		{"truncates the long side", 300, 200, 80, false, 120, 80, 20, 0},
		{"floor: 1.5 -> 1, a column left of half_even", 227, 224, 224, true, 227, 224, 1, 0},
		{"floor: portrait 3.5 -> 3", 224, 231, 224, true, 224, 231, 0, 3},
		{"floor: 0.5 -> 0 as half_even", 225, 224, 224, true, 225, 224, 0, 0},
		{"floor: even excess as half_even", 640, 480, 224, true, 298, 224, 37, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rw, rh, l, tp := centerCrop(tc.w, tc.h, tc.s, tc.floor)
			if rw != tc.rw || rh != tc.rh || l != tc.left || tp != tc.top {
				t.Errorf("centerCrop(%d,%d,%d,%v) = %d,%d,%d,%d want %d,%d,%d,%d", tc.w, tc.h, tc.s, tc.floor, rw, rh, l, tp,
					tc.rw, tc.rh, tc.left, tc.top)
			}
		})
	}
}

func randomRGB(w, h int, seed uint64) *rgb {
	r := rand.New(rand.NewPCG(seed, 1))
	img := newRGB(w, h)
	for i := range img.pix {
		img.pix[i] = uint8(r.IntN(256))
	}
	return img
}

// TestResizeWindowMatchesCrop: computing only the crop window equals resizing then cropping.
func TestResizeWindowMatchesCrop(t *testing.T) {
	cases := []struct {
		name         string
		sw, sh, w, h int
	}{
		{"downscale both", 97, 61, 40, 25},
		{"upscale both", 13, 9, 40, 31},
		{"width only", 50, 30, 20, 30},
		{"height only", 30, 50, 30, 20},
		{"same size", 30, 20, 30, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := randomRGB(tc.sw, tc.sh, 7)
			full := resizeBicubic(src, tc.w, tc.h)
			x0, y0, ow, oh := tc.w/5, tc.h/4, tc.w/2, tc.h/2
			win := resizeWindow(src, tc.w, tc.h, x0, y0, ow, oh)
			for y := range oh {
				got := win.pix[y*ow*3 : (y+1)*ow*3]
				want := full.pix[((y+y0)*tc.w+x0)*3 : ((y+y0)*tc.w+x0+ow)*3]
				if !bytes.Equal(got, want) {
					t.Fatalf("row %d differs", y)
				}
			}
		})
	}
}

func TestResizeConstantImage(t *testing.T) {
	for _, sz := range [][4]int{{1, 1, 80, 80}, {640, 480, 80, 80}, {3, 500, 80, 80}, {80, 80, 80, 80}} {
		src := newRGB(sz[0], sz[1])
		for i := range src.pix {
			src.pix[i] = 200
		}
		out := resizeBicubic(src, sz[2], sz[3])
		for i, v := range out.pix {
			if v != 200 {
				t.Fatalf("%v: byte %d = %d, want 200", sz, i, v)
			}
		}
	}
}

func TestSharedPhotos(t *testing.T) {
	files, err := filepath.Glob("testdata/photos/*.*")
	if err != nil {
		t.Fatal(err)
	}
	pre := testPre(t)
	crop, err := NewPreprocessor(testSpec(ResizeCenterCrop), ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if ext := filepath.Ext(f); ext != ".png" && ext != ".jpg" {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			img, err := pre.Decode(fh)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []*Preprocessor{pre, crop} {
				pix, err := p.Pixels(img)
				if err != nil {
					t.Fatal(err)
				}
				st := Stats(pix, 80)
				if st.Std == 0 || st.Min < -3 || st.Max > 3 {
					t.Errorf("implausible statistics %+v", st)
				}
			}
		})
	}
	if n != 7 {
		t.Errorf("found %d photos, want 7", n)
	}
}

// TestDecodeHEIC: a HEIC photo decodes through libheif (package heif registers the format), so
// a rerank that recomputes a HEIC candidate's tokens reads its own pixels.
func TestDecodeHEIC(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "indexer", "testdata", "images", "sample.heic"))
	if err != nil {
		t.Fatal(err)
	}
	if format, err := photo.Check(data, ImageOptions{}); err != nil || format != "heif" {
		t.Fatalf("photo.Check: %q %v", format, err)
	}
	img, err := photo.Decode(data, ImageOptions{})
	if err != nil || img.Bounds().Dx() != 96 || img.Bounds().Dy() != 64 {
		t.Fatalf("photo.Decode: %v %v", img, err)
	}
}

// TestResizedIsFixedPoint: preprocessing the model-resolution image Resized returns gives the
// same 8-bit pixels again, for every resize, alpha and crop mode, image shape and opacity: the
// indexer's model-resolution copies (indexer.TokensCopies) rely on it, as only their JPEG loss
// then separates their tokens from the original's.
func TestResizedIsFixedPoint(t *testing.T) {
	noise := func(w, h int, seed uint64, alpha bool) *image.NRGBA {
		r := rand.New(rand.NewPCG(seed, 2))
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.IntN(256))
			if !alpha && i%4 == 3 {
				img.Pix[i] = 255
			}
		}
		return img
	}
	specs := []struct {
		name string
		spec func() ImageSpec
	}{
		{"squash 80", func() ImageSpec { return testSpec(ResizeSquash) }},
		{"centre crop 80", func() ImageSpec { return testSpec(ResizeCenterCrop) }},
		{"centre crop 224 floor", func() ImageSpec {
			s := testSpec(ResizeCenterCrop)
			s.Size, s.CropRounding = 224, CropFloor
			return s
		}},
		{"squash 384 alpha dropped", func() ImageSpec {
			s := testSpec(ResizeSquash)
			s.Size, s.Alpha = 384, AlphaDrop
			return s
		}},
		{"centre crop 336 alpha dropped after resize", func() ImageSpec {
			s := testSpec(ResizeCenterCrop)
			s.Size, s.Alpha = 336, AlphaDropAfterResize
			return s
		}},
	}
	images := []struct {
		name string
		img  image.Image
	}{
		{"landscape", noise(613, 409, 1, false)},
		{"portrait, transparent", noise(301, 517, 2, true)},
		{"smaller than the input", noise(57, 43, 3, false)},
		{"gradient", halves(640, 480)},
	}
	for _, sp := range specs {
		p, err := NewPreprocessor(sp.spec(), ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range images {
			t.Run(sp.name+"/"+im.name, func(t *testing.T) {
				once, err := p.Resized(im.img)
				if err != nil {
					t.Fatal(err)
				}
				twice, err := p.Resized(once)
				if err != nil {
					t.Fatal(err)
				}
				if d, at := maxByteDiff(once.Pix, twice.Pix); d != 0 {
					t.Fatalf("resizing the model-resolution image again moves byte %d by %d", at, d)
				}
				a, err := p.Pixels(im.img)
				if err != nil {
					t.Fatal(err)
				}
				b, err := p.Pixels(once)
				if err != nil {
					t.Fatal(err)
				}
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("tensor value %d: %v from the image, %v from its model-resolution copy", i, a[i], b[i])
					}
				}
			})
		}
	}
}
