package heiftest

import (
	"image"
	"image/color"
	"testing"

	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/photo/heif"
)

// TestEncode: what Encode writes is a HEIC that package photo recognises and package heif
// decodes to the same size and about the same colours.
func TestEncode(t *testing.T) {
	cases := []struct {
		name string
		w, h int
	}{
		{"landscape", 96, 64},
		{"portrait", 48, 80},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
			for y := range c.h {
				for x := range c.w {
					img.SetRGBA(x, y, color.RGBA{uint8(200 * x / c.w), 90, uint8(200 * y / c.h), 255})
				}
			}
			data, err := Encode(img, 90)
			if err != nil {
				t.Fatal(err)
			}
			if f := photo.Sniff(data); f != photo.FormatHEIF {
				t.Fatalf("sniffed as %q", f)
			}
			got, err := heif.Decode(data, 1<<20, true)
			if err != nil || got.Img == nil || got.W != c.w || got.H != c.h {
				t.Fatalf("decoded %+v, %v; want %dx%d pixels", got, err, c.w, c.h)
			}
			r, g, b, _ := got.Img.At(c.w/2, c.h/2).RGBA()
			want := img.RGBAAt(c.w/2, c.h/2)
			for i, d := range []int{int(r>>8) - int(want.R), int(g>>8) - int(want.G), int(b>>8) - int(want.B)} {
				if d < -12 || d > 12 {
					t.Errorf("channel %d of the centre pixel off by %d levels", i, d)
				}
			}
		})
	}
	if _, err := Encode(image.NewRGBA(image.Rect(0, 0, 0, 0)), 90); err == nil {
		t.Error("an empty image was encoded")
	}
}
