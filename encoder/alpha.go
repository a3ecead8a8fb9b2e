package encoder

import (
	"image"
	"image/color"
)

// This file holds the alpha modes of the preprocessing (ImageSpec.Alpha): what the row readers
// make of a pixel that is not opaque, and AlphaDropAfterResize's resize of the image as decoded,
// which reproduces Pillow 9.4's Image.resize followed by convert("RGB"):
//
//   - RGBA and LA images are converted to premultiplied RGBa / La (libImaging/Convert.c
//     rgbA2rgba: c -> MULDIV255(c, a)), all four channels resampled with the same bicubic
//     filter, converted back (rgba2rgbA: c is kept where a is 0 or 255, else CLIP8(255*c / a),
//     integer division), and the alpha dropped. Resampling a channel does not depend on the
//     others, so the colour and the alpha are resampled as two images by the 8-bit resampler.
//   - When the size does not change, Pillow returns a copy: nothing is premultiplied.
//   - Paletted images are resized with NEAREST (Image.resize forces it for modes "P" and "1"),
//     then take their palette colours.

// alphaMode is ImageSpec.Alpha.
type alphaMode uint8

const (
	alphaComposite       alphaMode = iota // AlphaComposite: on the background
	alphaDrop                             // AlphaDrop: the stored colour
	alphaDropAfterResize                  // AlphaDropAfterResize; its row readers give premultiplied colours
)

// alphaModeOf maps a validated image.alpha to its mode ("" is the default, composite).
func alphaModeOf(s string) alphaMode {
	switch s {
	case AlphaDrop:
		return alphaDrop
	case AlphaDropAfterResize:
		return alphaDropAfterResize
	}
	return alphaComposite
}

// alphaRule is how a row reader turns a pixel that is not opaque into its colour.
type alphaRule struct {
	mode alphaMode
	bg   [3]uint8 // alphaComposite's background
	seen *bool    // alphaDropAfterResize sets *seen when it premultiplies a pixel
}

// color is the colour of the straight-alpha pixel (r, g, b, a) under the rule: composited on
// bg as Pillow's alpha_composite does, the colour itself (alphaDrop), or premultiplied as
// Pillow's RGBA -> RGBa conversion does (alphaDropAfterResize).
func (ru alphaRule) color(r, g, b, a uint8) (uint8, uint8, uint8) {
	if a == 255 {
		return r, g, b
	}
	switch ru.mode {
	case alphaDrop:
		return r, g, b
	case alphaDropAfterResize:
		*ru.seen = true
		return mulDiv255(r, a), mulDiv255(g, a), mulDiv255(b, a)
	}
	return composite(r, g, b, a, ru.bg)
}

// rgbaColor is color of the premultiplied image.RGBA pixel q, un-premultiplied as
// color.NRGBAModel does (a pixel of alpha 0 is black).
func (ru alphaRule) rgbaColor(q []uint8) (uint8, uint8, uint8) {
	r, g, b, a := q[0], q[1], q[2], q[3]
	switch a {
	case 255:
		return r, g, b
	case 0:
		r, g, b = 0, 0, 0
	default:
		c := color.NRGBAModel.Convert(color.RGBA{r, g, b, a}).(color.NRGBA)
		r, g, b = c.R, c.G, c.B
	}
	return ru.color(r, g, b, a)
}

// mulDiv255 is libImaging's MULDIV255(c, a): c * a / 255, rounded.
func mulDiv255(c, a uint8) uint8 {
	t := uint32(c)*uint32(a) + 128
	return uint8((t>>8 + t) >> 8)
}

// unpremultiply is libImaging's rgba2rgbA for one channel c of alpha a.
func unpremultiply(c, a uint8) uint8 {
	if a == 0 || a == 255 {
		return c
	}
	return uint8(min(255*uint32(c)/uint32(a), 255))
}

// resampleThenDrop writes to dst, as packed RGB, the n x n window at (x0, y0) of img resized to
// w x h the way Pillow resizes the image as decoded, its alpha then dropped
// (AlphaDropAfterResize). An opaque image costs what the other modes cost: the colour is
// resampled premultiplied, which for opaque pixels is the colour itself, and the alpha only
// when a pixel the window reads is not opaque.
func resampleThenDrop(dst []uint8, img image.Image, w, h, x0, y0, n int, s *scratch) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if m, ok := img.(*image.Paletted); ok {
		nearestPaletted(dst, m, w, h, x0, y0, n, n)
		return
	}
	if sw == w && sh == h { // Pillow returns a copy
		resample(dst, rowsOf(img, alphaRule{mode: alphaDrop}), sw, sh, w, h, x0, y0, n, n, s)
		return
	}
	img = straight(img)
	s.seen = false
	resample(dst, rowsOf(img, alphaRule{mode: alphaDropAfterResize, seen: &s.seen}), sw, sh, w, h, x0, y0, n, n, s)
	if !s.seen {
		return
	}
	alpha := grow(&s.alpha, len(dst))
	resample(alpha, alphaRowsOf(img), sw, sh, w, h, x0, y0, n, n, s)
	for i := 0; i < len(dst); i += 3 {
		if a := alpha[i]; a != 0 && a != 255 {
			q := dst[i : i+3 : i+3]
			q[0], q[1], q[2] = unpremultiply(q[0], a), unpremultiply(q[1], a), unpremultiply(q[2], a)
		}
	}
}

// straight returns img as one of the types resampleThenDrop reads directly: the image itself
// when it is an RGBA, NRGBA, YCbCr or Gray, else a straight-alpha NRGBA copy (the colour of an
// NYCbCrA by libjpeg's conversion, as the other modes read it; other types through
// color.NRGBAModel).
func straight(img image.Image) image.Image {
	switch img.(type) {
	case *image.RGBA, *image.NRGBA, *image.YCbCr, *image.Gray:
		return img
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	if m, ok := img.(*image.NYCbCrA); ok {
		for y := range b.Dy() {
			for x := range b.Dx() {
				px, py := x+b.Min.X, y+b.Min.Y
				yi, ci := m.YOffset(px, py), m.COffset(px, py)
				q := out.Pix[y*out.Stride+4*x:][:4]
				q[0], q[1], q[2] = ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				q[3] = m.A[m.AOffset(px, py)]
			}
		}
		return out
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.NRGBAModel.Convert(img.At(x+b.Min.X, y+b.Min.Y)).(color.NRGBA)
			q := out.Pix[y*out.Stride+4*x:][:4]
			q[0], q[1], q[2], q[3] = c.R, c.G, c.B, c.A
		}
	}
	return out
}

// alphaRowsOf returns the reader of the alpha of an RGBA or NRGBA image, in the R lanes (G and B
// are zero).
func alphaRowsOf(img image.Image) rowReader {
	switch m := img.(type) {
	case *image.RGBA:
		return alphaRows{m.Pix, m.Stride}
	case *image.NRGBA:
		return alphaRows{m.Pix, m.Stride}
	}
	panic("encoder: alpha of an image without alpha") // straight's types with alpha are handled
}

// alphaRows reads byte 3 of 4-byte pixels, from the image's top left.
type alphaRows struct {
	pix    []uint8
	stride int
}

func (s alphaRows) lanes(y0, y1, x0 int, r, g, b []int64) {
	p0, p1 := s.pix[y0*s.stride+4*x0:], s.pix[y1*s.stride+4*x0:]
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		r[i], g[i], b[i] = pair(p0[4*i+3], p1[4*i+3]), 0, 0
	}
}

// nearestPaletted writes to dst, as packed RGB, the ow x oh window at (x0, y0) of m resized to
// w x h with Pillow's NEAREST resize, in palette colours with the alpha ignored.
func nearestPaletted(dst []uint8, m *image.Paletted, w, h, x0, y0, ow, oh int) {
	var pal [256][3]uint8 // an index past the palette is black
	for i, c := range m.Palette[:min(len(m.Palette), 256)] {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		pal[i] = [3]uint8{n.R, n.G, n.B}
	}
	xs := nearestIndex(m.Rect.Dx(), w)[x0 : x0+ow]
	ys := nearestIndex(m.Rect.Dy(), h)[y0 : y0+oh]
	for y, sy := range ys {
		row := m.Pix[sy*m.Stride:]
		out := dst[3*y*ow : 3*(y+1)*ow]
		for x, sx := range xs {
			c := pal[row[sx]]
			out[3*x], out[3*x+1], out[3*x+2] = c[0], c[1], c[2]
		}
	}
}

// nearestIndex returns, for each of the out pixels of a NEAREST resize from in pixels, the
// source pixel, as libImaging's ImagingScaleAffine computes it for Image.resize (Geometry.c):
// the affine scale a = in/out, the position accumulated in float64 from a/2 by adding a,
// truncated. Accumulating rounds differently from the closed form int((x + 0.5) * a), and
// Pillow's boundaries are the accumulated ones.
func nearestIndex(in, out int) []int {
	a := float64(in) / float64(out)
	idx := make([]int, out)
	xo := 0 + a*0.5 // box[0] + a[0] * 0.5
	for x := range idx {
		idx[x] = min(int(xo), in-1) // xo >= 0; the clamp never binds (xo stays about a/2 short of in)
		xo += a
	}
	return idx
}
