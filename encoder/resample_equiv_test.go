package encoder

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// This file keeps the straightforward implementation of the preprocessing (full RGB conversion,
// fresh coefficient tables, per-pixel resampling loops) as a reference that the optimised path
// must match bit for bit.

// refResized is the reference of (*Preprocessor).resized for a valid, non-empty img.
func refResized(p *Preprocessor, img image.Image) *rgb {
	b := img.Bounds()
	s := p.size
	w, h, left, top := s, s, 0, 0
	if p.crop {
		w, h, left, top = centerCrop(b.Dx(), b.Dy(), s, p.floor)
	}
	if p.alpha == alphaDropAfterResize {
		return refResizeThenDrop(img, w, h, left, top, s)
	}
	return refResizeWindow(refToRGB(img, p.alpha, p.bg), w, h, left, top, s, s)
}

// refResizeThenDrop is the reference of resampleThenDrop: Pillow's resize of the image as
// decoded, always with the alpha pass, then its alpha dropped.
func refResizeThenDrop(img image.Image, w, h, x0, y0, n int) *rgb {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if m, ok := img.(*image.Paletted); ok {
		return refNearest(m, w, h, x0, y0, n)
	}
	if sw == w && sh == h {
		return refResizeWindow(refToRGB(img, alphaDrop, [3]uint8{}), w, h, x0, y0, n, n)
	}
	pre, alpha := newRGB(sw, sh), newRGB(sw, sh)
	for y := range sh {
		for x := range sw {
			r, g, bb, a := refStraight(img, x, y, true)
			o := 3 * (y*sw + x)
			pre.pix[o], pre.pix[o+1], pre.pix[o+2] = refMulDiv255(r, a), refMulDiv255(g, a), refMulDiv255(bb, a)
			alpha.pix[o], alpha.pix[o+1], alpha.pix[o+2] = a, a, a
		}
	}
	out := refResizeWindow(pre, w, h, x0, y0, n, n)
	ra := refResizeWindow(alpha, w, h, x0, y0, n, n)
	for i, v := range out.pix {
		if a := ra.pix[i]; a != 0 && a != 255 {
			out.pix[i] = uint8(min(255*int(v)/int(a), 255))
		}
	}
	return out
}

// refMulDiv255 is libImaging's MULDIV255.
func refMulDiv255(c, a uint8) uint8 {
	t := int(c)*int(a) + 128
	return uint8(((t >> 8) + t) >> 8)
}

// refNearest is Pillow's NEAREST resize of a paletted image to w x h, the n x n window at
// (x0, y0), in palette colours: each output position accumulated from the first, as
// ImagingScaleAffine does.
func refNearest(m *image.Paletted, w, h, x0, y0, n int) *rgb {
	pos := func(in, out, i int) int {
		a := float64(in) / float64(out)
		xo := a * 0.5
		for range i {
			xo += a
		}
		return int(xo)
	}
	b := m.Bounds()
	out := newRGB(n, n)
	for y := range n {
		sy := pos(b.Dy(), h, y0+y)
		for x := range n {
			sx := pos(b.Dx(), w, x0+x)
			c := color.NRGBAModel.Convert(m.At(b.Min.X+sx, b.Min.Y+sy)).(color.NRGBA)
			o := 3 * (y*n + x)
			out.pix[o], out.pix[o+1], out.pix[o+2] = c.R, c.G, c.B
		}
	}
	return out
}

// refPixelsInto is the reference of (*Preprocessor).PixelsInto for a valid, non-empty img.
func refPixelsInto(p *Preprocessor, dst []float32, img image.Image) {
	r := refResized(p, img)
	plane := p.size * p.size
	for i := range plane {
		for c := range 3 {
			v := float32(r.pix[3*i+c]) / 255
			dst[c*plane+i] = (v - p.mean[c]) / p.std[c]
		}
	}
}

// refToRGB is the reference toRGB: a whole copy of the image, pixel by pixel, composited on bg
// (alphaComposite) or with the alpha ignored (alphaDrop).
func refToRGB(img image.Image, mode alphaMode, bg [3]uint8) *rgb {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := newRGB(w, h)
	for y := range h {
		for x := range w {
			r, g, bb, a := refStraight(img, x, y, mode != alphaComposite)
			q := out.pix[3*(y*w+x):]
			if mode == alphaDrop {
				q[0], q[1], q[2] = r, g, bb
				continue
			}
			refSetComposite(q, r, g, bb, a, bg)
		}
	}
	return out
}

// refStraight is the straight-alpha colour of pixel (x, y) of img, counted from its top left:
// YCbCr by libjpeg's conversion (that of an NYCbCrA too when ownYCbCrA, else Go's), RGBA
// un-premultiplied by color.NRGBAModel, any other type through color.NRGBAModel.
func refStraight(img image.Image, x, y int, ownYCbCrA bool) (r, g, b, a uint8) {
	x, y = x+img.Bounds().Min.X, y+img.Bounds().Min.Y
	switch m := img.(type) {
	case *image.YCbCr:
		r, g, b = refYCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)])
		return r, g, b, 255
	case *image.NYCbCrA:
		if ownYCbCrA {
			r, g, b = refYCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)])
			return r, g, b, m.A[m.AOffset(x, y)]
		}
	case *image.Gray:
		v := m.Pix[m.PixOffset(x, y)]
		return v, v, v, 255
	case *image.NRGBA:
		q := m.Pix[m.PixOffset(x, y):]
		return q[0], q[1], q[2], q[3]
	}
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	return c.R, c.G, c.B, c.A
}

// refSetComposite is setComposite.
func refSetComposite(dst []uint8, r, g, b, a uint8, bg [3]uint8) {
	switch a {
	case 255:
		dst[0], dst[1], dst[2] = r, g, b
		return
	case 0:
		dst[0], dst[1], dst[2] = bg[0], bg[1], bg[2]
		return
	}
	const pb = 7
	coef1 := uint32(a) * 255 * 255 * (1 << pb) / (255 * 255)
	coef2 := 255*(1<<pb) - coef1
	blend := func(s, d uint8) uint8 {
		t := uint32(s)*coef1 + uint32(d)*coef2 + 0x80<<pb
		return uint8((((t >> 8) + t) >> 8) >> pb)
	}
	dst[0], dst[1], dst[2] = blend(r, bg[0]), blend(g, bg[1]), blend(b, bg[2])
}

// refYCbCrToRGB is libjpeg's YCbCr -> RGB conversion, computed for each pixel.
func refYCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	const (
		scale = 16
		half  = 1 << (scale - 1)
		fixR  = 91881
		fixB  = 116130
		fixGR = 46802
		fixGB = 22554
	)
	x, z := int32(cr)-128, int32(cb)-128
	yy := int32(y)
	r := yy + (fixR*x+half)>>scale
	g := yy + (-fixGB*z-fixGR*x+half)>>scale
	b := yy + (fixB*z+half)>>scale
	return refClampByte(r), refClampByte(g), refClampByte(b)
}

// refClampByte clamps v to 0..255.
func refClampByte(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// refBicubic is bicubic.
func refBicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// refCoeffs is coeffs, its weights in a flat array and the spans as (first, n) pairs.
func refCoeffs(inSize, outSize, first, n int) (ksize int, bounds []int, kk []int32) {
	const support = 2.0
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	sup := support * filterscale
	ksize = int(math.Ceil(sup))*2 + 1
	bounds = make([]int, n*2)
	kk = make([]int32, n*ksize)
	k := make([]float64, ksize)
	for xx := 0; xx < n; xx++ {
		center := (float64(first+xx) + 0.5) * scale
		ss := 1 / filterscale
		xmin := int(center - sup + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + sup + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := refBicubic((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < ksize; x++ {
			w := 0.0
			if x < xmax && ww != 0 {
				w = k[x] / ww
			}
			if w < 0 {
				kk[xx*ksize+x] = int32(-0.5 + w*(1<<precisionBits))
			} else {
				kk[xx*ksize+x] = int32(0.5 + w*(1<<precisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return ksize, bounds, kk
}

// refClip8 is clip8.
func refClip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// refResizeWindow is the reference resizeWindow: a full temporary image per pass, and a
// loop over the taps for each value.
func refResizeWindow(src *rgb, w, h, x0, y0, ow, oh int) *rgb {
	if src.w == w && src.h == h {
		out := newRGB(ow, oh)
		for y := range oh {
			copy(out.pix[y*ow*3:(y+1)*ow*3], src.pix[((y+y0)*src.w+x0)*3:])
		}
		return out
	}
	img := src
	kv, bv, kkv := refCoeffs(src.h, h, y0, oh)
	if src.w != w {
		kh, bh, kkh := refCoeffs(src.w, w, x0, ow)
		first, last := bv[0], bv[2*oh-2]+bv[2*oh-1]
		if src.h == h {
			first, last = y0, y0+oh
		}
		tmp := newRGB(ow, last-first)
		for y := 0; y < tmp.h; y++ {
			in := src.pix[(y+first)*src.w*3:]
			out := tmp.pix[y*ow*3:]
			for xx := 0; xx < ow; xx++ {
				xmin, n := bh[2*xx], bh[2*xx+1]
				k := kkh[xx*kh : xx*kh+n]
				var s0, s1, s2 int32 = 1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1)
				p := in[xmin*3:]
				for x, c := range k {
					s0 += int32(p[3*x]) * c
					s1 += int32(p[3*x+1]) * c
					s2 += int32(p[3*x+2]) * c
				}
				out[3*xx], out[3*xx+1], out[3*xx+2] = refClip8(s0), refClip8(s1), refClip8(s2)
			}
		}
		if src.h == h {
			return tmp
		}
		for i := 0; i < oh; i++ {
			bv[2*i] -= first
		}
		img = tmp
	} else if x0 != 0 || ow != w {
		tmp := newRGB(ow, src.h)
		for y := range src.h {
			copy(tmp.pix[y*ow*3:(y+1)*ow*3], src.pix[(y*src.w+x0)*3:])
		}
		img = tmp
	}
	out := newRGB(ow, oh)
	stride := img.w * 3
	for yy := 0; yy < oh; yy++ {
		ymin, n := bv[2*yy], bv[2*yy+1]
		k := kkv[yy*kv : yy*kv+n]
		row := out.pix[yy*stride:]
		for x := 0; x < stride; x++ {
			var s int32 = 1 << (precisionBits - 1)
			for y, c := range k {
				s += int32(img.pix[(ymin+y)*stride+x]) * c
			}
			row[x] = refClip8(s)
		}
	}
	return out
}

// randSize is a random image size: mostly moderate, sometimes tiny, extreme or near s.
func randSize(r *rand.Rand, s int) (w, h int) {
	switch r.IntN(6) {
	case 0:
		return 1 + r.IntN(4), 1 + r.IntN(4)
	case 1: // extreme aspect ratios
		if r.IntN(2) == 0 {
			return 200 + r.IntN(800), 1 + r.IntN(4)
		}
		return 1 + r.IntN(4), 200 + r.IntN(800)
	case 2: // a side equal to the target, or close to it
		w, h = 1+r.IntN(600), 1+r.IntN(400)
		switch r.IntN(4) {
		case 0:
			w = s
		case 1:
			h = s
		case 2:
			w, h = s, s
		default:
			w, h = s+r.IntN(3)-1, s+r.IntN(3)-1
		}
		return max(w, 1), max(h, 1)
	}
	return 1 + r.IntN(600), 1 + r.IntN(400)
}

// randAlpha is a random alpha, with the special values 0 and 255 frequent.
func randAlpha(r *rand.Rand, opaque bool) uint8 {
	if opaque {
		return 255
	}
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return 255
	}
	return uint8(r.IntN(256))
}

// randImage is a random w x h image of a random type and layout (opaque or not, sub-image,
// offset origin), with a short description.
func randImage(r *rand.Rand, w, h int) (image.Image, string) {
	// A sub-image of a larger image: Bounds().Min != 0 and a stride wider than the row.
	dx, dy := r.IntN(3)*(1+r.IntN(7)), r.IntN(3)*(1+r.IntN(7))
	if r.IntN(8) == 0 { // a negative origin
		dx, dy = -dx-1, -dy
	}
	outer := image.Rect(dx-r.IntN(3), dy-r.IntN(3), dx+w+r.IntN(3), dy+h+r.IntN(3))
	rect := image.Rect(dx, dy, dx+w, dy+h)
	opaque := r.IntN(2) == 0
	// level is a random value below n: uniform, or only the extremes 0 and n-1, which give
	// the largest sums and clip most.
	extremes := r.IntN(4) == 0
	level := func(n int) uint8 {
		if extremes {
			return uint8((n - 1) * r.IntN(2))
		}
		return uint8(r.IntN(n))
	}
	var img interface {
		image.Image
		SubImage(image.Rectangle) image.Image
	}
	var kind string
	switch r.IntN(9) {
	case 0:
		m := image.NewRGBA(outer)
		for i := 0; i < len(m.Pix); i += 4 {
			a := randAlpha(r, opaque)
			for c := range 3 { // premultiplied: colour <= alpha
				m.Pix[i+c] = level(int(a) + 1)
			}
			m.Pix[i+3] = a
		}
		img, kind = m, "RGBA"
	case 1:
		m := image.NewNRGBA(outer)
		for i := 0; i < len(m.Pix); i += 4 {
			for c := range 3 {
				m.Pix[i+c] = level(256)
			}
			m.Pix[i+3] = randAlpha(r, opaque)
		}
		img, kind = m, "NRGBA"
	case 2:
		ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420,
			image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411,
			image.YCbCrSubsampleRatio410}
		ratio := ratios[r.IntN(len(ratios))]
		m := image.NewYCbCr(outer, ratio)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = level(256)
			}
		}
		img, kind = m, "YCbCr"+ratio.String()
	case 3:
		m := image.NewGray(outer)
		for i := range m.Pix {
			m.Pix[i] = level(256)
		}
		img, kind = m, "Gray"
	case 4:
		pal := make(color.Palette, 1+r.IntN(256))
		for i := range pal {
			pal[i] = color.NRGBA{level(256), level(256), level(256), randAlpha(r, opaque)}
		}
		m := image.NewPaletted(outer, pal)
		for i := range m.Pix {
			m.Pix[i] = uint8(r.IntN(len(pal)))
		}
		img, kind = m, "Paletted"
	case 5:
		m := image.NewGray16(outer)
		for i := range m.Pix {
			m.Pix[i] = level(256)
		}
		img, kind = m, "Gray16"
	case 6:
		m := image.NewRGBA64(outer)
		for i := 0; i < len(m.Pix); i += 8 {
			a := uint16(randAlpha(r, opaque))<<8 | uint16(r.IntN(256))
			for c := range 3 {
				v := uint16(r.IntN(int(a) + 1))
				m.Pix[i+2*c], m.Pix[i+2*c+1] = uint8(v>>8), uint8(v)
			}
			m.Pix[i+6], m.Pix[i+7] = uint8(a>>8), uint8(a)
		}
		img, kind = m, "RGBA64"
	case 7:
		m := image.NewNYCbCrA(outer, image.YCbCrSubsampleRatio420)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = level(256)
			}
		}
		for i := range m.A {
			m.A[i] = randAlpha(r, opaque)
		}
		img, kind = m, "NYCbCrA"
	default:
		m := image.NewNRGBA(outer)
		for i := 0; i < len(m.Pix); i += 4 {
			for c := range 3 {
				m.Pix[i+c] = level(256)
			}
			m.Pix[i+3] = 255
		}
		img, kind = m, "NRGBA opaque"
	}
	if opaque {
		kind += " opaque"
	}
	if extremes {
		kind += " extremes"
	}
	sub := img.SubImage(rect)
	if (rect.Min.X < 0 || rect.Min.Y < 0) && !atWorks(sub) {
		return randImage(r, w, h) // an image Go itself cannot read: draw another
	}
	return sub, fmt.Sprintf("%s %v", kind, rect)
}

// atWorks reports whether img.At reads every pixel of img. It does not for some sub-images of
// 4:1:0 YCbCr images at negative coordinates, whose chroma offsets the image package computes
// past the chroma planes.
func atWorks(img image.Image) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			img.At(x, y)
		}
	}
	return true
}

// randPre is a preprocessor of a random size, resize mode, normalisation and background.
func randPre(tb testing.TB, r *rand.Rand) *Preprocessor {
	tb.Helper()
	sizes := []int{80, 224, 1 + r.IntN(120)}
	spec := ImageSpec{Size: sizes[r.IntN(len(sizes))], Resize: ResizeSquash, Interpolation: "bicubic",
		Mean: []float64{r.Float64(), r.Float64(), r.Float64()},
		Std:  []float64{0.05 + r.Float64(), 0.05 + r.Float64(), 0.05 + r.Float64()}}
	if r.IntN(2) == 0 {
		spec.Resize = ResizeCenterCrop
	}
	if r.IntN(2) == 0 {
		spec.AlphaBackground = []int{r.IntN(256), r.IntN(256), r.IntN(256)}
	}
	spec.Alpha = []string{"", AlphaComposite, AlphaDrop, AlphaDropAfterResize, AlphaDropAfterResize}[r.IntN(5)]
	if r.IntN(2) == 0 {
		spec.CropRounding = CropFloor
	}
	p, err := NewPreprocessor(spec, ImageOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// preDesc describes a preprocessor's modes for a test failure.
func preDesc(p *Preprocessor) string {
	crop := "squash"
	if p.crop {
		crop = map[bool]string{false: "crop half_even", true: "crop floor"}[p.floor]
	}
	alpha := map[alphaMode]string{alphaComposite: fmt.Sprintf("composite on %v", p.bg), alphaDrop: "drop",
		alphaDropAfterResize: "drop_after_resize"}[p.alpha]
	return fmt.Sprintf("%d %s, alpha %s", p.size, crop, alpha)
}

// TestOpaqueAlphaStaysOpaque: resampling an alpha of 255 everywhere gives 255, for every kernel
// up to extreme downscales, so resampleThenDrop may skip the alpha pass (and the division by
// it) when every pixel it reads is opaque. A kernel's fixed-point weights must sum to at least
// 2^22 - 8224: then 255 * sum + 2^21 rounds to 255 in clip8.
func TestOpaqueAlphaStaysOpaque(t *testing.T) {
	ins := []int{1, 2, 3, 5, 7, 10, 13, 49, 80, 100, 224, 333, 999, 4000, 10_000, 30_001, 100_000}
	outs := []int{1, 2, 3, 9, 12, 80, 224, 336, 384, 1000}
	for _, in := range ins {
		for _, out := range outs {
			k := coeffs(in, out, 0, out)
			for xx, sp := range k.spans {
				var sum int64
				for _, c := range k.kk[xx*k.ksize:][:sp.n] {
					sum += c
				}
				if sum < 1<<precisionBits-8224 {
					t.Fatalf("%d -> %d, pixel %d: weights sum to %d, under 2^22 - 8224", in, out, xx, sum)
				}
				var v int32 = 1 << (precisionBits - 1)
				for _, c := range k.kk[xx*k.ksize:][:sp.n] {
					v += 255 * int32(c)
				}
				if got := clip8(v); got != 255 {
					t.Fatalf("%d -> %d, pixel %d: opaque alpha resampled to %d", in, out, xx, got)
				}
			}
		}
	}
}

// TestYCbCrToRGBMatchesReference: the table-driven conversion equals the arithmetic, for every
// input.
func TestYCbCrToRGBMatchesReference(t *testing.T) {
	for i := range 1 << 24 {
		y, cb, cr := uint8(i>>16), uint8(i>>8), uint8(i)
		r, g, b := ycbcrToRGB(y, cb, cr)
		if wr, wg, wb := refYCbCrToRGB(y, cb, cr); r != wr || g != wg || b != wb {
			t.Fatalf("ycbcrToRGB(%d, %d, %d) = %d, %d, %d, want %d, %d, %d", y, cb, cr, r, g, b, wr, wg, wb)
		}
	}
}

// TestPixelsIntoMatchesReference: the optimised preprocessing gives bit for bit the tensor and
// the 8-bit image of the reference implementation, over random image types, layouts and sizes.
func TestPixelsIntoMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 7))
	n := 400
	if testing.Short() {
		n = 60
	}
	for i := range n {
		p := randPre(t, r)
		w, h := randSize(r, p.size)
		img, desc := randImage(r, w, h)
		name := fmt.Sprintf("case %d: %s -> %s", i, desc, preDesc(p))
		got := make([]float32, p.Len())
		if err := p.PixelsInto(got, img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := make([]float32, p.Len())
		refPixelsInto(p, want, img)
		for j := range got {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("%s: value %d = %v, want %v", name, j, got[j], want[j])
			}
		}
		res, err := p.Resized(img)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ref := refResized(p, img)
		for j := range p.size * p.size {
			want := [4]uint8{ref.pix[3*j], ref.pix[3*j+1], ref.pix[3*j+2], 255}
			if got := [4]uint8(res.Pix[4*j : 4*j+4]); got != want {
				t.Fatalf("%s: Resized pixel %d = %v, want %v", name, j, got, want)
			}
		}
		if p.alpha == alphaDropAfterResize {
			continue // toRGB does not apply: the resize comes first
		}
		if rgb, ref := toRGB(img, alphaRule{mode: p.alpha, bg: p.bg}), refToRGB(img, p.alpha, p.bg); rgb.w != ref.w ||
			rgb.h != ref.h || string(rgb.pix) != string(ref.pix) {
			t.Fatalf("%s: toRGB differs from the reference", name)
		}
	}
}

// TestPixelsIntoConcurrent: preprocessors of several sizes used from several goroutines at once
// (sharing the kernel cache and the scratch pool) give the reference results.
func TestPixelsIntoConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type job struct {
		p    *Preprocessor
		img  image.Image
		want []float32
	}
	jobs := make([]job, 24)
	for i := range jobs {
		p := randPre(t, r)
		w, h := randSize(r, p.size)
		img, _ := randImage(r, w, h)
		want := make([]float32, p.Len())
		refPixelsInto(p, want, img)
		jobs[i] = job{p, img, want}
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for n := range 3 * len(jobs) {
				j := jobs[(n*7+g)%len(jobs)]
				got := make([]float32, j.p.Len())
				if err := j.p.PixelsInto(got, j.img); err != nil {
					errs <- err
					return
				}
				for k := range got {
					if math.Float32bits(got[k]) != math.Float32bits(j.want[k]) {
						errs <- fmt.Errorf("goroutine %d, job %d: value %d = %v, want %v", g, (n*7+g)%len(jobs), k,
							got[k], j.want[k])
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkPixelsIntoReference is BenchmarkPixelsInto on the reference implementation, to
// measure the speed-up.
func BenchmarkPixelsIntoReference(b *testing.B) {
	benchPixels(b, func(p *Preprocessor, dst []float32, img image.Image) error {
		refPixelsInto(p, dst, img)
		return nil
	})
}
