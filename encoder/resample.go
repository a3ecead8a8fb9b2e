package encoder

import (
	"math"
	"sync"
	"sync/atomic"
)

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

// halfLanes is the rounding term every fixed-point sum starts from, in both lanes of a packed
// pair (lanes are described above rowReader).
const halfLanes = 1<<(precisionBits-1)<<32 | 1<<(precisionBits-1)

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

// span is the input pixels one output pixel reads: n of them from first on.
type span struct{ first, n int }

// kernel is the resampling of a run of output pixels along one axis: per output pixel its
// input span and ksize fixed-point weights (the first n of them used).
type kernel struct {
	ksize int
	spans []span
	kk    []int64 // int32 values, widened once for the int64 lane arithmetic
}

// coeffs returns the kernel of the n output pixels from first on of a resize from inSize to
// outSize.
func coeffs(inSize, outSize, first, n int) *kernel {
	const support = 2.0 // bicubic
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	sup := support * filterscale
	ksize := int(math.Ceil(sup))*2 + 1
	kn := &kernel{ksize: ksize, spans: make([]span, n), kk: make([]int64, n*ksize)}
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
				kn.kk[xx*ksize+x] = int64(int32(-0.5 + w*(1<<precisionBits)))
			} else {
				kn.kk[xx*ksize+x] = int64(int32(0.5 + w*(1<<precisionBits)))
			}
		}
		kn.spans[xx] = span{xmin, xmax}
	}
	return kn
}

// kernelKey is the arguments of coeffs.
type kernelKey struct{ inSize, outSize, first, n int }

type cachedKernel struct {
	key kernelKey
	k   *kernel
}

// kernels caches recent kernels, direct-mapped by key: images of one size all use the same
// ones, which cost more to compute than a small image's resize. Entries are immutable, so
// lookups need no lock; a collision merely recomputes.
var kernels [64]atomic.Pointer[cachedKernel]

// cachedCoeffs is coeffs through the cache.
func cachedCoeffs(inSize, outSize, first, n int) *kernel {
	key := kernelKey{inSize, outSize, first, n}
	h := uint64(inSize)*0x9e3779b97f4a7c15 ^ uint64(outSize)*0xc2b2ae3d27d4eb4f ^
		uint64(first)*0x165667b19e3779f9 ^ uint64(n)
	slot := &kernels[(h^h>>29)%uint64(len(kernels))]
	if e := slot.Load(); e != nil && e.key == key {
		return e.k
	}
	k := coeffs(inSize, outSize, first, n)
	slot.Store(&cachedKernel{key, k})
	return k
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

// The passes compute in lanes: two values packed in an int64 as lo + hi<<32, so that one
// multiplication by a weight and one addition do the work of two. Summed over the taps, the
// lanes hold exactly the two int32 sums of Pillow's arithmetic (see splitLanes), as the low one
// never overflows an int32 (as in Pillow) and so never carries into the high one: a kernel's
// positive weights sum to at most about 1.14 and its negative ones to about 0.14, so a sum stays
// within about ±255 * 1.14 * 2^22 = ±1.2e9. Go does not vectorise; this halves the
// multiplications, the bottleneck of the passes.

// rowReader gives an image's rows as 8-bit RGB, two at a time, in lanes: for the len(r) pixels
// from column x0 on of rows y0 and y1 (counted from the image's top left), r[i] = R(y0) |
// R(y1)<<32, and so for g and b. The horizontal pass weighs both rows' pixels alike, so one
// multiplication of a lane pair does the work of two (see taps); and each source pixel is
// converted once, not at each of the taps that read it.
type rowReader interface {
	lanes(y0, y1, x0 int, r, g, b []int64)
}

// pair packs two 8-bit values into lanes.
func pair(lo, hi uint8) int64 { return int64(lo) | int64(hi)<<32 }

func (m *rgb) lanes(y0, y1, x0 int, r, g, b []int64) {
	p0, p1 := m.pix[(y0*m.w+x0)*3:], m.pix[(y1*m.w+x0)*3:]
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		q0, q1 := p0[3*i:3*i+3:3*i+3], p1[3*i:3*i+3:3*i+3]
		r[i], g[i], b[i] = pair(q0[0], q1[0]), pair(q0[1], q1[1]), pair(q0[2], q1[2])
	}
}

// splitLanes returns the two int32 sums packed in s = lo + hi<<32 (exact in two's complement
// whatever their signs: lo is s's low half, and s - lo is hi<<32).
func splitLanes(s int64) (lo, hi int32) {
	lo = int32(s)
	return lo, int32((s - int64(lo)) >> 32)
}

// taps returns the fixed-point sums of the lanes r, g and b weighted by kk, from the rounding
// term on. It is kept out of line: inlined into horizontal's loop, the register allocator
// spills the sums to memory at every tap.
//
//go:noinline
func taps(r, g, b, kk []int64) (sr, sg, sb int64) {
	r, g, b = r[:len(kk)], g[:len(kk)], b[:len(kk)]
	sr, sg, sb = halfLanes, halfLanes, halfLanes
	for i, c := range kk {
		sr += r[i] * c
		sg += g[i] * c
		sb += b[i] * c
	}
	return sr, sg, sb
}

// lanesImage is the intermediate image between the passes, in lanes: row y is
// lanes[y*stride:][:stride], its pixel x's R | G<<32 at x, and B at w + x/2, in the low lane
// for an even x and in the high one for an odd x. All pixels of a row get the same weight in
// the vertical pass, so a pair of pixels takes three multiplications instead of six.
type lanesImage struct {
	w, stride int // stride = w + (w+1)/2
	lanes     []int64
}

// row is row y of t.
func (t *lanesImage) row(y int) []int64 { return t.lanes[y*t.stride:][:t.stride] }

// setPixel sets pixel x of row, a row of a lanesImage of width w. The B lanes take an even
// pixel before the odd one after it.
func setPixel(row []int64, w, x int, r, g, b uint8) {
	row[x] = pair(r, g)
	if x&1 == 0 {
		row[w+x>>1] = int64(b)
	} else {
		row[w+x>>1] |= int64(b) << 32
	}
}

// horizontal resamples two source rows, the lanes (r, g, b) of their pixels from column off
// on, into rows y and y+1 of t.
func (k *kernel) horizontal(t *lanesImage, y int, r, g, b []int64, off int) {
	row0, row1 := t.row(y), t.row(y+1)
	for xx, sp := range k.spans {
		kk := k.kk[xx*k.ksize:][:sp.n]
		sr, sg, sb := taps(r[sp.first-off:], g[sp.first-off:], b[sp.first-off:], kk)
		r0, r1 := splitLanes(sr)
		g0, g1 := splitLanes(sg)
		b0, b1 := splitLanes(sb)
		setPixel(row0, t.w, xx, clip8(r0), clip8(g0), clip8(b0))
		setPixel(row1, t.w, xx, clip8(r1), clip8(g1), clip8(b1))
	}
}

// vertical resamples the rows of t, the first one source row first, into dst as packed RGB.
// It adds each output row's taps whole rows at a time, two by two, so that every read is
// sequential and the sums are loaded and stored once per two taps.
func (k *kernel) vertical(dst []uint8, t *lanesImage, first int, s *scratch) {
	acc := grow(&s.acc, t.stride)
	for yy, sp := range k.spans {
		for i := range acc {
			acc[i] = halfLanes
		}
		kk := k.kk[yy*k.ksize:][:sp.n]
		rows := t.lanes[(sp.first-first)*t.stride:]
		for ; len(kk) >= 2; kk = kk[2:] {
			mulAdd2(acc, rows, rows[t.stride:], kk[0], kk[1])
			rows = rows[2*t.stride:]
		}
		if len(kk) == 1 {
			mulAdd2(acc, rows, rows, kk[0], 0)
		}
		row := dst[yy*t.w*3:][:t.w*3]
		for x, v := range acc[:t.w] {
			r, g := splitLanes(v)
			b0, b1 := splitLanes(acc[t.w+x>>1])
			if x&1 != 0 {
				b0 = b1
			}
			q := row[3*x : 3*x+3 : 3*x+3]
			q[0], q[1], q[2] = clip8(r), clip8(g), clip8(b0)
		}
	}
}

// mulAdd2 adds v0*c0 + v1*c1 to acc, element-wise.
func mulAdd2(acc, v0, v1 []int64, c0, c1 int64) {
	v0, v1 = v0[:len(acc)], v1[:len(acc)]
	for i := range acc {
		acc[i] += v0[i]*c0 + v1[i]*c1
	}
}

// scratch is the working memory of a resize, reused through scratchPool.
type scratch struct {
	r, g, b []int64 // a pair of source rows
	tmp     []int64 // the lanesImage
	acc     []int64 // an output row's sums
	pix     []uint8 // the resized image
	alpha   []uint8 // its alpha, for AlphaDropAfterResize (resampleThenDrop)
	seen    bool    // a reader in alphaDropAfterResize mode read a pixel that is not opaque
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// grow returns (*buf)[:n], reallocating *buf when it is too small.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// resizeBicubic resizes src to w x h like Pillow's BICUBIC resize.
func resizeBicubic(src *rgb, w, h int) *rgb { return resizeWindow(src, w, h, 0, 0, w, h) }

// resizeWindow returns the ow x oh window at (x0, y0) of src resized to w x h, computing only
// that window (a resize then crop, without the cost of the full resize).
func resizeWindow(src *rgb, w, h, x0, y0, ow, oh int) *rgb {
	out := newRGB(ow, oh)
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	resample(out.pix, src, src.w, src.h, w, h, x0, y0, ow, oh, s)
	return out
}

// resample writes to dst, as packed RGB, the ow x oh window at (x0, y0) of the sw x sh image
// src resized to w x h (resizeWindow of any rowReader). It reads only the source rows and
// columns the window needs.
func resample(dst []uint8, src rowReader, sw, sh, w, h, x0, y0, ow, oh int, s *scratch) {
	// Source rows [first, last) go through the horizontal pass into t.
	first, last := y0, y0+oh
	var kv *kernel
	if sh != h {
		kv = cachedCoeffs(sh, h, y0, oh)
		first, last = kv.spans[0].first, kv.spans[oh-1].first+kv.spans[oh-1].n
	}
	// The rows go in pairs; an odd last one is paired with itself, into a spare row of t.
	rows := last - first + (last-first)&1
	t := &lanesImage{w: ow, stride: ow + (ow+1)/2}
	t.lanes = grow(&s.tmp, rows*t.stride)
	if sw != w {
		kh := cachedCoeffs(sw, w, x0, ow)
		// Spans only move right, so the first and last give the columns read.
		cx0, cx1 := kh.spans[0].first, kh.spans[ow-1].first+kh.spans[ow-1].n
		r, g, b := grow(&s.r, cx1-cx0), grow(&s.g, cx1-cx0), grow(&s.b, cx1-cx0)
		for y := first; y < last; y += 2 {
			src.lanes(y, min(y+1, last-1), cx0, r, g, b)
			kh.horizontal(t, y-first, r, g, b, cx0)
		}
	} else {
		r, g, b := grow(&s.r, ow), grow(&s.g, ow), grow(&s.b, ow)
		for y := first; y < last; y += 2 {
			src.lanes(y, min(y+1, last-1), x0, r, g, b)
			row0, row1 := t.row(y-first), t.row(y-first+1)
			for x := range ow {
				setPixel(row0, ow, x, uint8(r[x]), uint8(g[x]), uint8(b[x]))
				setPixel(row1, ow, x, uint8(r[x]>>32), uint8(g[x]>>32), uint8(b[x]>>32))
			}
		}
	}
	if kv != nil {
		kv.vertical(dst, t, first, s)
		return
	}
	for y := range oh {
		row := t.row(y)
		for x, v := range row[:ow] {
			q := dst[3*(y*ow+x) : 3*(y*ow+x)+3 : 3*(y*ow+x)+3]
			q[0], q[1], q[2] = uint8(v), uint8(v>>32), uint8(row[ow+x>>1]>>(32*(x&1)))
		}
	}
}
