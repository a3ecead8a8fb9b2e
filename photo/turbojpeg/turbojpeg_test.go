package turbojpeg

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func TestChooseFactor(t *testing.T) {
	cases := []struct {
		w, h, short, long int
		want              Factor
	}{
		{4000, 3000, 80, 256, Factor{1, 8}},   // 500x375
		{1000, 872, 80, 256, Factor{3, 8}},    // 375x327; 1/4 gives a 250 px long side
		{640, 427, 224, 256, Factor{5, 8}},    // shorter side 267 >= 224
		{200, 100, 80, 256, Factor{1, 1}},     // smaller than the thumbnail
		{8000, 100, 80, 256, Factor{7, 8}},    // a panorama: the shorter side decides
		{4000, 3000, 80, 0, Factor{1, 8}},     // no thumbnails
		{100000, 100, 80, 256, Factor{7, 8}},  // shorter side 88 >= 80
		{64, 48, 80, 256, Factor{1, 1}},       // tiny
		{3000, 4000, 384, 256, Factor{1, 4}},  // 750x1000 (3/16 isn't offered: 1/8 steps)
		{6000, 4000, 80, 256, Factor{1, 8}},   // 750x500
		{12000, 9000, 80, 256, Factor{1, 8}},  // 1500x1125: 1/8 is the largest reduction
		{4000, 3000, 2000, 256, Factor{3, 4}}, // 3000x2250
	}
	for _, c := range cases {
		if got := ChooseFactor(c.w, c.h, c.short, c.long); got != c.want {
			t.Errorf("ChooseFactor(%d, %d, %d, %d) = %v, want %v", c.w, c.h, c.short, c.long, got, c.want)
		}
	}
}

// TestDecodeMatchesStdlib: a full-size decode is the image the standard library decodes, to
// the IDCT and chroma-upsampling differences (libjpeg's fancy upsampling, as Pillow's), and a
// damaged file is an error, not a picture.
func TestDecodeMatchesStdlib(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 97, 61))
	for y := range 61 {
		for x := range 97 {
			src.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 4), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	w, h, rgb, err := Header(data)
	if err != nil || w != 97 || h != 61 || !rgb {
		t.Fatalf("Header = %d, %d, %v, %v", w, h, rgb, err)
	}
	got, err := Decode(data, w, h, Factor{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	worst := 0
	for y := range h {
		for x := range w {
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				worst = max(worst, d, -d)
			}
		}
	}
	if worst > 8 {
		t.Errorf("libjpeg-turbo and image/jpeg differ by %d levels", worst)
	}
	if _, err := Decode(data[:len(data)/2], w, h, Factor{1, 1}); err == nil {
		t.Error("a truncated JPEG decoded without error")
	}
}

// FuzzDecode: libjpeg-turbo through the cgo wrapper never crashes the process, at full size and
// at the scaled sizes the indexer uses; what it returns has the size Header promised.
func FuzzDecode(f *testing.F) {
	src := image.NewRGBA(image.Rect(0, 0, 40, 24))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 75}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	gray := image.NewGray(image.Rect(0, 0, 17, 9))
	buf.Reset()
	if err := jpeg.Encode(&buf, gray, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		w, h, rgb, err := Header(data)
		if err != nil || !rgb || w <= 0 || h <= 0 || int64(w)*int64(h) > 1<<20 {
			return // the callers refuse these before decoding
		}
		for _, fa := range []Factor{{1, 1}, {1, 8}} {
			img, err := Decode(data, w, h, fa)
			if err != nil {
				continue
			}
			if b := img.Bounds(); b.Dx() != fa.Scaled(w) || b.Dy() != fa.Scaled(h) {
				t.Fatalf("decoded %v at %v, header says %dx%d", b, fa, w, h)
			}
		}
	})
}

// TestCompressSampled: 4:4:4 keeps colour that changes from one pixel to the next, which 4:2:0
// averages away, and an unknown subsampling is an error.
func TestCompressSampled(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.RGBA{220, 30, 30, 255} // red and blue columns, one pixel wide
			if x%2 == 1 {
				c = color.RGBA{30, 30, 220, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	cases := []struct {
		name     string
		s        Subsampling
		maxLevel int // the largest error of a channel, in levels
		minLevel int
	}{
		{"4:4:4", Sub444, 12, 0},   // 3 measured
		{"4:2:0", Sub420, 255, 60}, // 115 measured
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := CompressSampled(src, 90, c.s)
			if err != nil {
				t.Fatal(err)
			}
			w, h, _, err := Header(data)
			if err != nil || w != 64 || h != 48 {
				t.Fatalf("Header = %d, %d, %v", w, h, err)
			}
			got, err := Decode(data, w, h, Factor{1, 1})
			if err != nil {
				t.Fatal(err)
			}
			worst := 0
			for i := range got.Pix {
				if i%4 != 3 {
					d := int(got.Pix[i]) - int(src.Pix[i])
					worst = max(worst, d, -d)
				}
			}
			t.Logf("worst channel error %d levels", worst)
			if worst > c.maxLevel || worst < c.minLevel {
				t.Errorf("worst channel error %d levels, want %d..%d", worst, c.minLevel, c.maxLevel)
			}
		})
	}
	if _, err := CompressSampled(src, 90, Subsampling(7)); err == nil {
		t.Error("an unknown subsampling was accepted")
	}
}
