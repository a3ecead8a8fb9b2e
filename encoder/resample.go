package encoder

import "math"

// rgb is an 8-bit RGB image, 3 bytes per pixel, row-major, no padding.
type rgb struct {
	w, h int
	pix  []uint8
}

func newRGB(w, h int) *rgb { return &rgb{w: w, h: h, pix: make([]uint8, w*h*3)} }

// This file reproduces Pillow's Image.resize(size, Image.BICUBIC) for 8-bit images
// (libImaging/Resample.c): a separable convolution with the a = -0.5 cubic kernel whose support
// grows with the downscale factor (antialiasing), coefficients normalised to sum 1 and rounded
// to 22-bit fixed point, the horizontal pass first, its result clipped to 8 bits, then the
// vertical pass. Written from the algorithm's description; results are bit-exact on the golden
// images.

const precisionBits = 32 - 8 - 2

func bicubic(x float64) float64 {
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

// coeffs returns, for the n output pixels from first on of a resize from inSize to outSize, the
// first input pixel, the number of taps and ksize fixed-point weights.
func coeffs(inSize, outSize, first, n int) (ksize int, bounds []int, kk []int32) {
	const support = 2.0 // bicubic
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
			w := bicubic((float64(x+xmin) - center + 0.5) * ss)
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

func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// resizeBicubic resizes src to w x h like Pillow's BICUBIC resize.
func resizeBicubic(src *rgb, w, h int) *rgb { return resizeWindow(src, w, h, 0, 0, w, h) }

// resizeWindow returns the ow x oh window at (x0, y0) of src resized to w x h, computing only
// that window (a resize then crop, without the cost of the full resize).
func resizeWindow(src *rgb, w, h, x0, y0, ow, oh int) *rgb {
	if src.w == w && src.h == h {
		out := newRGB(ow, oh)
		for y := range oh {
			copy(out.pix[y*ow*3:(y+1)*ow*3], src.pix[((y+y0)*src.w+x0)*3:])
		}
		return out
	}
	img := src
	kv, bv, kkv := coeffs(src.h, h, y0, oh)
	if src.w != w {
		kh, bh, kkh := coeffs(src.w, w, x0, ow)
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
				out[3*xx], out[3*xx+1], out[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
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
		// Vertical pass only: crop the columns first (the pass is per column).
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
			row[x] = clip8(s)
		}
	}
	return out
}
