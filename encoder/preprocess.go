package encoder

import (
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"math"

	"github.com/glimpse-search/glimpse/photo"
	_ "github.com/glimpse-search/glimpse/photo/heif" // register HEIC/HEIF (libheif)
	_ "golang.org/x/image/bmp"                       // register BMP
	_ "golang.org/x/image/tiff"                      // register TIFF
	_ "golang.org/x/image/webp"                      // register WebP
)

// Defaults of ImageOptions (package photo's).
const (
	DefaultMaxPixels       = photo.DefaultMaxPixels
	DefaultMaxBytes        = photo.DefaultMaxBytes
	DefaultMaxDecodedBytes = photo.DefaultMaxDecodedBytes
)

// ImageOptions caps what a [Preprocessor] decodes from untrusted input (photo.Options). Zero
// fields take the defaults; [NewPreprocessor] sets KeepOrientation from the manifest's
// image.exif_transpose. Images are decoded by package photo (photo.Read, photo.Decode).
type ImageOptions = photo.Options

// Preprocessor turns decoded images into the vision graph's input: RGB (alpha handled as the
// manifest's image.alpha says), PIL-compatible bicubic resize (squash or shorter side + centre
// crop, its offset rounded as image.crop_rounding says), scaled to [0,1] and normalised with
// the manifest's mean and std, channel-first. It needs no ONNX Runtime and is safe for
// concurrent use.
type Preprocessor struct {
	size      int
	crop      bool
	floor     bool      // the crop offset is rounded down (CropFloor), not half to even
	alpha     alphaMode // image.alpha
	mean, std [3]float32
	bg        [3]uint8
	opts      ImageOptions
}

// NewPreprocessor builds the preprocessing of a manifest's image section. Its decoding (Decode,
// and [Verify]'s) uses opts with KeepOrientation set from the section's exif_transpose.
func NewPreprocessor(spec ImageSpec, opts ImageOptions) (*Preprocessor, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	p := &Preprocessor{size: spec.Size, crop: spec.Resize == ResizeCenterCrop, opts: opts,
		bg: [3]uint8{255, 255, 255}, floor: spec.CropRounding == CropFloor, alpha: alphaModeOf(spec.Alpha)}
	p.opts.KeepOrientation = spec.EXIFTranspose != nil && !*spec.EXIFTranspose
	for i := range 3 {
		p.mean[i], p.std[i] = float32(spec.Mean[i]), float32(spec.Std[i])
		if spec.AlphaBackground != nil {
			p.bg[i] = uint8(spec.AlphaBackground[i])
		}
	}
	return p, nil
}

// Size is S, the side of the square model input.
func (p *Preprocessor) Size() int { return p.size }

// Len is the number of floats of one preprocessed image, 3*S*S.
func (p *Preprocessor) Len() int { return 3 * p.size * p.size }

// Decode reads an encoded image from r through package photo (photo.Read) with the
// preprocessor's caps and the manifest's orientation rule: the image the model sees, which is
// not upright when EXIFTranspose is false. Errors wrap [ErrUnsupportedImage] or [ErrTooLarge].
func (p *Preprocessor) Decode(r io.Reader) (image.Image, error) { return photo.Read(r, p.opts) }

// DecodeWith is Decode with the caps of caps (MaxPixels, MaxBytes, MaxDecodedBytes; zero fields
// the defaults) and the preprocessor's orientation rule.
func (p *Preprocessor) DecodeWith(r io.Reader, caps ImageOptions) (image.Image, error) {
	caps.KeepOrientation = p.opts.KeepOrientation
	return photo.Read(r, caps)
}

// EXIFTranspose reports whether the model sees JPEGs with their EXIF orientation applied (the
// manifest's image.exif_transpose). When false, callers that also display the image decode it
// twice or orient a copy: the model's input as stored, the thumbnail upright.
func (p *Preprocessor) EXIFTranspose() bool { return !p.opts.KeepOrientation }

// Pixels returns the normalised [3,S,S] tensor of img (row-major, float32).
func (p *Preprocessor) Pixels(img image.Image) ([]float32, error) {
	dst := make([]float32, p.Len())
	if err := p.PixelsInto(dst, img); err != nil {
		return nil, err
	}
	return dst, nil
}

// PixelsInto writes the normalised [3,S,S] tensor of img into dst (len(dst) == Len()).
func (p *Preprocessor) PixelsInto(dst []float32, img image.Image) error {
	if len(dst) != p.Len() {
		return fmt.Errorf("%w: pixel buffer of %d floats, want %d", ErrInput, len(dst), p.Len())
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	pix, err := p.resized(img, s)
	if err != nil {
		return err
	}
	// A channel's 256 possible values, each computed as (v/255 - mean) / std in float32.
	var norm [3][256]float32
	for c := range norm {
		for v := range norm[c] {
			norm[c][v] = (float32(v)/255 - p.mean[c]) / p.std[c]
		}
	}
	plane := p.size * p.size
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		q := pix[:3:3]
		r[i], g[i], b[i] = norm[0][q[0]], norm[1][q[1]], norm[2][q[2]]
		pix = pix[3:]
	}
	return nil
}

// Resized returns img as 8-bit RGB at the model's S x S, before normalisation. Preprocessing
// the result gives the same pixels again (an S x S image is its own resize and crop), so its
// lossless copy stands for img: the indexer's model-resolution copies are JPEGs of it.
func (p *Preprocessor) Resized(img image.Image) (*image.RGBA, error) {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	pix, err := p.resized(img, s)
	if err != nil {
		return nil, err
	}
	out := image.NewRGBA(image.Rect(0, 0, p.size, p.size))
	for i := range p.size * p.size {
		copy(out.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		out.Pix[4*i+3] = 255
	}
	return out, nil
}

// resized returns img as packed 8-bit RGB at S x S, in s.pix.
func (p *Preprocessor) resized(img image.Image, s *scratch) ([]uint8, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrInput)
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("%w: empty image %v", ErrUnsupportedImage, b)
	}
	if int64(b.Dx())*int64(b.Dy()) > p.opts.MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d pixels, over %d", ErrTooLarge, b.Dx(), b.Dy(), p.opts.MaxPixels)
	}
	sz := p.size
	pix := grow(&s.pix, 3*sz*sz)
	w, h, left, top := sz, sz, 0, 0
	if p.crop {
		w, h, left, top = centerCrop(b.Dx(), b.Dy(), sz, p.floor)
	}
	if p.alpha == alphaDropAfterResize {
		resampleThenDrop(pix, img, w, h, left, top, sz, s)
		return pix, nil
	}
	src := rowsOf(img, alphaRule{mode: p.alpha, bg: p.bg})
	resample(pix, src, b.Dx(), b.Dy(), w, h, left, top, sz, sz, s)
	return pix, nil
}

// centerCrop returns the size of torchvision's Resize(s) of a w x h image (shorter side to s,
// the longer one scaled and truncated) and the offset of CenterCrop(s) in it: Python's round,
// half to even, as torchvision's CenterCrop (CLIP) does, or with floor rounded down, as the
// Hugging Face image processors do.
func centerCrop(w, h, s int, floor bool) (rw, rh, left, top int) {
	rw, rh = s, s
	if w <= h {
		rh = int(float64(s) * float64(h) / float64(w))
	} else {
		rw = int(float64(s) * float64(w) / float64(h))
	}
	if floor {
		return rw, rh, (rw - s) / 2, (rh - s) / 2
	}
	left = int(math.RoundToEven(float64(rw-s) / 2))
	top = int(math.RoundToEven(float64(rh-s) / 2))
	return rw, rh, left, top
}

// toRGB converts any image to 8-bit RGB, turning the pixels that are not opaque into colours
// by rule (for alphaComposite the way Pillow's Image.alpha_composite does on an opaque
// background).
func toRGB(img image.Image, rule alphaRule) *rgb {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := newRGB(w, h)
	if rows := directRows(img, rule); rows != nil {
		r, g, bb := make([]int64, w), make([]int64, w), make([]int64, w)
		for y := range h {
			rows.lanes(y, y, 0, r, g, bb)
			for x := range w {
				o := 3 * (y*w + x)
				out.pix[o], out.pix[o+1], out.pix[o+2] = uint8(r[x]), uint8(g[x]), uint8(bb[x])
			}
		}
		return out
	}
	for y := range h {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(x+b.Min.X, y+b.Min.Y)).(color.NRGBA)
			q := out.pix[3*(y*w+x):][:3]
			q[0], q[1], q[2] = rule.color(c.R, c.G, c.B, c.A)
		}
	}
	return out
}

// rowsOf returns img's rows as toRGB converts them: read from img itself for the common image
// types, only the rows and columns a resize needs, else from toRGB's copy.
func rowsOf(img image.Image, rule alphaRule) rowReader {
	if rows := directRows(img, rule); rows != nil {
		return rows
	}
	return toRGB(img, rule)
}

// directRows returns the reader of img's rows for the image types converted without
// image.At, or nil.
func directRows(img image.Image, rule alphaRule) rowReader {
	switch m := img.(type) {
	case *image.RGBA:
		return rgbaRows{m, rule}
	case *image.NRGBA:
		return nrgbaRows{m, rule}
	case *image.YCbCr:
		return ycbcrRows{m}
	case *image.Gray:
		return grayRows{m}
	case *image.Paletted:
		return newPalettedRows(m, rule)
	case *image.NYCbCrA:
		if rule.mode == alphaDrop { // the colour is the YCbCr part
			return ycbcrRows{&m.YCbCr}
		}
	}
	return nil
}

// The row readers index Pix from the image's top left, where Pix starts.

type rgbaRows struct {
	m    *image.RGBA
	rule alphaRule
}

func (s rgbaRows) lanes(y0, y1, x0 int, r, g, b []int64) {
	p0, p1 := s.m.Pix[y0*s.m.Stride+4*x0:], s.m.Pix[y1*s.m.Stride+4*x0:]
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		q0, q1 := p0[4*i:4*i+4:4*i+4], p1[4*i:4*i+4:4*i+4]
		if q0[3]&q1[3] == 255 { // both opaque
			r[i], g[i], b[i] = pair(q0[0], q1[0]), pair(q0[1], q1[1]), pair(q0[2], q1[2])
			continue
		}
		r0, g0, b0 := s.rule.rgbaColor(q0)
		r1, g1, b1 := s.rule.rgbaColor(q1)
		r[i], g[i], b[i] = pair(r0, r1), pair(g0, g1), pair(b0, b1)
	}
}

type nrgbaRows struct {
	m    *image.NRGBA
	rule alphaRule
}

func (s nrgbaRows) lanes(y0, y1, x0 int, r, g, b []int64) {
	p0, p1 := s.m.Pix[y0*s.m.Stride+4*x0:], s.m.Pix[y1*s.m.Stride+4*x0:]
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		q0, q1 := p0[4*i:4*i+4:4*i+4], p1[4*i:4*i+4:4*i+4]
		if q0[3]&q1[3] == 255 { // both opaque
			r[i], g[i], b[i] = pair(q0[0], q1[0]), pair(q0[1], q1[1]), pair(q0[2], q1[2])
			continue
		}
		r0, g0, b0 := s.rule.color(q0[0], q0[1], q0[2], q0[3])
		r1, g1, b1 := s.rule.color(q1[0], q1[1], q1[2], q1[3])
		r[i], g[i], b[i] = pair(r0, r1), pair(g0, g1), pair(b0, b1)
	}
}

// composite is setComposite returning the colour.
func composite(r, g, b, a uint8, bg [3]uint8) (uint8, uint8, uint8) {
	var c [3]uint8
	setComposite(c[:], r, g, b, a, bg)
	return c[0], c[1], c[2]
}

type grayRows struct{ m *image.Gray }

func (s grayRows) lanes(y0, y1, x0 int, r, g, b []int64) {
	p0, p1 := s.m.Pix[y0*s.m.Stride+x0:], s.m.Pix[y1*s.m.Stride+x0:]
	p0, p1 = p0[:len(r)], p1[:len(r)]
	g, b = g[:len(r)], b[:len(r)]
	for i, v := range p0 {
		l := pair(v, p1[i])
		r[i], g[i], b[i] = l, l, l
	}
}

// palettedRows reads a paletted image through its palette, converted once.
type palettedRows struct {
	m   *image.Paletted
	pal [][3]uint8
}

func newPalettedRows(m *image.Paletted, rule alphaRule) palettedRows {
	s := palettedRows{m: m, pal: make([][3]uint8, len(m.Palette))}
	for i, c := range m.Palette {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		s.pal[i][0], s.pal[i][1], s.pal[i][2] = rule.color(n.R, n.G, n.B, n.A)
	}
	return s
}

func (s palettedRows) lanes(y0, y1, x0 int, r, g, b []int64) {
	p0, p1 := s.m.Pix[y0*s.m.Stride+x0:], s.m.Pix[y1*s.m.Stride+x0:]
	p0, p1 = p0[:len(r)], p1[:len(r)]
	g, b = g[:len(r)], b[:len(r)]
	for i, v := range p0 {
		c0, c1 := s.pal[v], s.pal[p1[i]]
		r[i], g[i], b[i] = pair(c0[0], c1[0]), pair(c0[1], c1[1]), pair(c0[2], c1[2])
	}
}

type ycbcrRows struct{ m *image.YCbCr }

func (s ycbcrRows) lanes(y0, y1, x0 int, r, g, b []int64) {
	m := s.m
	g, b = g[:len(r)], b[:len(r)]
	if m.Rect.Min.X < 0 { // COffset divides x rounding towards zero: keep its arithmetic
		for i := range r {
			r0, g0, b0 := s.at(x0+i, y0)
			r1, g1, b1 := s.at(x0+i, y1)
			r[i], g[i], b[i] = pair(r0, r1), pair(g0, g1), pair(b0, b1)
		}
		return
	}
	// COffset(x, y) is COffset(Min.X, y) + x/d - Min.X/d, for the ratio's horizontal
	// subsampling d, and the divisions are shifts for x >= 0.
	shift := 0
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
		shift = 1
	case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
		shift = 2
	}
	x, y0, y1 := m.Rect.Min.X+x0, m.Rect.Min.Y+y0, m.Rect.Min.Y+y1
	l0, l1 := m.Y[m.YOffset(x, y0):], m.Y[m.YOffset(x, y1):]
	l0, l1 = l0[:len(r)], l1[:len(r)]
	c0 := m.COffset(m.Rect.Min.X, y0) - m.Rect.Min.X>>shift
	c1 := m.COffset(m.Rect.Min.X, y1) - m.Rect.Min.X>>shift
	for i, v := range l0 {
		ci := (x + i) >> shift
		r0, g0, b0 := ycbcrToRGB(v, m.Cb[c0+ci], m.Cr[c0+ci])
		r1, g1, b1 := ycbcrToRGB(l1[i], m.Cb[c1+ci], m.Cr[c1+ci])
		r[i], g[i], b[i] = pair(r0, r1), pair(g0, g1), pair(b0, b1)
	}
}

// at is the colour of pixel (x, y), counted from the top left.
func (s ycbcrRows) at(x, y int) (uint8, uint8, uint8) {
	m := s.m
	x, y = x+m.Rect.Min.X, y+m.Rect.Min.Y
	yi, ci := m.YOffset(x, y), m.COffset(x, y)
	return ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
}

// setComposite writes (r,g,b) with straight alpha a over the opaque bg into dst[0:3], with
// Pillow's integer arithmetic (libImaging/AlphaComposite.c, 7 extra bits of precision).
func setComposite(dst []uint8, r, g, b, a uint8, bg [3]uint8) {
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

// ycbcrToRGB is libjpeg's YCbCr -> RGB conversion (jdcolor.c: 16-bit fixed point, rounded
// table entries), which the reference decoder (Pillow) uses; Go's color.YCbCrToRGB rounds
// differently and makes red about one level darker on average.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	t := &ycc
	yy := int32(y) + yccClampOffset
	return t.clamp[yy+t.rCr[cr]], t.clamp[yy+(t.gCb[cb]+t.gCr[cr])>>yccScale], t.clamp[yy+t.bCb[cb]]
}

const (
	yccScale       = 16
	yccClampOffset = 256 // the colour differences add -227..225 to Y
)

// ycc holds jdcolor.c's tables: each colour difference's contribution to R, G and B (G's
// before the shift), and the clamp to 0..255 of Y plus a contribution, offset by
// yccClampOffset.
var ycc = func() (t struct {
	rCr, bCb, gCb, gCr [256]int32
	clamp              [768]uint8
}) {
	const (
		half  = 1 << (yccScale - 1)
		fixR  = 91881  // FIX(1.40200)
		fixB  = 116130 // FIX(1.77200)
		fixGR = 46802  // FIX(0.71414)
		fixGB = 22554  // FIX(0.34414)
	)
	for i := range int32(256) {
		x := i - 128
		t.rCr[i] = (fixR*x + half) >> yccScale
		t.bCb[i] = (fixB*x + half) >> yccScale
		t.gCb[i] = -fixGB * x
		t.gCr[i] = -fixGR*x + half
	}
	for i := range t.clamp {
		t.clamp[i] = uint8(min(max(i-yccClampOffset, 0), 255))
	}
	return t
}()
