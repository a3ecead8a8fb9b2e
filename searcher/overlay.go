package searcher

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
)

// Overlay renders the heat map over the image: bilinearly upsampled to the image size, colour
// mapped (blue = little attention, red = most) and alpha blended over the pixels.
func (e *Explanation) Overlay() *image.RGBA {
	b := e.Image.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), e.Image, b.Min, draw.Src)
	w, h, g := b.Dx(), b.Dy(), e.Grid
	for y := range h {
		fy := (float64(y)+0.5)*float64(g)/float64(h) - 0.5
		y0 := int(math.Floor(fy))
		wy := fy - float64(y0)
		for x := range w {
			fx := (float64(x)+0.5)*float64(g)/float64(w) - 0.5
			x0 := int(math.Floor(fx))
			wx := fx - float64(x0)
			v := (1-wy)*((1-wx)*e.at(x0, y0)+wx*e.at(x0+1, y0)) + wy*((1-wx)*e.at(x0, y0+1)+wx*e.at(x0+1, y0+1))
			cr, cg, cb := jet(v)
			a := 0.15 + 0.55*v
			i := out.PixOffset(x, y)
			px := out.Pix[i : i+4 : i+4]
			px[0] = blend(px[0], cr, a)
			px[1] = blend(px[1], cg, a)
			px[2] = blend(px[2], cb, a)
			px[3] = 255
		}
	}
	return out
}

// at is the heat of patch (x, y), clamped to the grid.
func (e *Explanation) at(x, y int) float64 {
	x = min(max(x, 0), e.Grid-1)
	y = min(max(y, 0), e.Grid-1)
	return float64(e.Heat[y*e.Grid+x])
}

// WritePNG writes the overlay as a PNG of the image's size.
func (e *Explanation) WritePNG(w io.Writer) error {
	if err := png.Encode(w, e.Overlay()); err != nil {
		return fmt.Errorf("searcher: explain: write png: %w", err)
	}
	return nil
}

// jet maps v in [0,1] to a blue-cyan-yellow-red colour.
func jet(v float64) (r, g, b float64) {
	c := func(x float64) float64 { return min(max(x, 0), 1) }
	return c(1.5 - math.Abs(4*v-3)), c(1.5 - math.Abs(4*v-2)), c(1.5 - math.Abs(4*v-1))
}

func blend(base uint8, c, a float64) uint8 {
	return uint8(math.Round(float64(base)*(1-a) + 255*c*a))
}
