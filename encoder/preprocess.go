package encoder

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"math"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// Defaults of ImageOptions.
const (
	DefaultMaxPixels = 100_000_000 // 100 megapixels: ~400 MB decoded as RGBA
	DefaultMaxBytes  = 256 << 20   // 256 MiB of encoded image
)

// ImageOptions caps what [DecodeImage] accepts from untrusted input. Zero fields take the
// defaults.
type ImageOptions struct {
	// MaxPixels caps width x height, checked from the header before decoding
	// (default DefaultMaxPixels).
	MaxPixels int64
	// MaxBytes caps the encoded size read (default DefaultMaxBytes).
	MaxBytes int64
}

func (o ImageOptions) withDefaults() ImageOptions {
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// DecodeImage reads an encoded image (PNG, JPEG, GIF, WebP, BMP, TIFF) from r. It reads at most
// MaxBytes, checks the header's dimensions against MaxPixels before decoding, and applies the
// EXIF orientation of JPEGs (so an orientation-6 photo comes back upright, width and height
// swapped). Errors wrap [ErrUnsupportedImage] or [ErrTooLarge]. Safe for concurrent use.
func DecodeImage(r io.Reader, opts ImageOptions) (image.Image, error) {
	opts = opts.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrUnsupportedImage, err)
	}
	if int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, opts.MaxBytes)
	}
	return DecodeImageBytes(data, opts)
}

// DecodeImageBytes is [DecodeImage] on an in-memory file.
func DecodeImageBytes(data []byte, opts ImageOptions) (image.Image, error) {
	opts = opts.withDefaults()
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrUnsupportedImage)
	}
	if int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, len(data), opts.MaxBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels", ErrUnsupportedImage, format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > opts.MaxPixels {
		return nil, fmt.Errorf("%w: %s of %dx%d = %d pixels, over %d", ErrTooLarge, format, cfg.Width, cfg.Height,
			px, opts.MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrUnsupportedImage, format, err)
	}
	if format == "jpeg" {
		img = Orient(img, ExifOrientation(data))
	}
	return img, nil
}

// Orient applies an EXIF orientation (1..8, as [ExifOrientation] reads it) so the image
// displays upright; other values return img unchanged.
func Orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// Preprocessor turns decoded images into the vision graph's input: RGB (alpha composited on
// the manifest's background), PIL-compatible bicubic resize (squash or shorter side + centre
// crop), scaled to [0,1] and normalised with the manifest's mean and std, channel-first. It
// needs no ONNX Runtime and is safe for concurrent use.
type Preprocessor struct {
	size      int
	crop      bool
	mean, std [3]float32
	bg        [3]uint8
	opts      ImageOptions
}

// NewPreprocessor builds the preprocessing of a manifest's image section.
func NewPreprocessor(spec ImageSpec, opts ImageOptions) (*Preprocessor, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	p := &Preprocessor{size: spec.Size, crop: spec.Resize == ResizeCenterCrop, opts: opts.withDefaults(),
		bg: [3]uint8{255, 255, 255}}
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

// Decode is [DecodeImage] with the preprocessor's caps.
func (p *Preprocessor) Decode(r io.Reader) (image.Image, error) { return DecodeImage(r, p.opts) }

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
	r, err := p.resized(img)
	if err != nil {
		return err
	}
	plane := p.size * p.size
	for i := range plane {
		for c := range 3 {
			v := float32(r.pix[3*i+c]) / 255
			dst[c*plane+i] = (v - p.mean[c]) / p.std[c]
		}
	}
	return nil
}

// Resized returns img as 8-bit RGB at the model's S x S, before normalisation.
func (p *Preprocessor) Resized(img image.Image) (*image.RGBA, error) {
	r, err := p.resized(img)
	if err != nil {
		return nil, err
	}
	out := image.NewRGBA(image.Rect(0, 0, r.w, r.h))
	for i := range r.w * r.h {
		copy(out.Pix[4*i:4*i+3], r.pix[3*i:3*i+3])
		out.Pix[4*i+3] = 255
	}
	return out, nil
}

func (p *Preprocessor) resized(img image.Image) (*rgb, error) {
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
	src := toRGB(img, p.bg)
	s := p.size
	if !p.crop {
		return resizeBicubic(src, s, s), nil
	}
	w, h, left, top := centerCrop(src.w, src.h, s)
	return resizeWindow(src, w, h, left, top, s, s), nil
}

// centerCrop returns the size of torchvision's Resize(s) of a w x h image (shorter side to s,
// the longer one scaled and truncated) and the offset of CenterCrop(s) in it (Python's round,
// half to even), as CLIP's preprocessing does.
func centerCrop(w, h, s int) (rw, rh, left, top int) {
	rw, rh = s, s
	if w <= h {
		rh = int(float64(s) * float64(h) / float64(w))
	} else {
		rw = int(float64(s) * float64(w) / float64(h))
	}
	left = int(math.RoundToEven(float64(rw-s) / 2))
	top = int(math.RoundToEven(float64(rh-s) / 2))
	return rw, rh, left, top
}

// toRGB converts any image to 8-bit RGB, compositing non-opaque pixels on bg the way Pillow's
// Image.alpha_composite does on an opaque background.
func toRGB(img image.Image, bg [3]uint8) *rgb {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := newRGB(w, h)
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(x+b.Min.X, y+b.Min.Y), m.COffset(x+b.Min.X, y+b.Min.Y)
				r, g, bb := ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o := 3 * (y*w + x)
				out.pix[o], out.pix[o+1], out.pix[o+2] = r, g, bb
			}
		}
	case *image.Gray:
		for y := range h {
			row := m.Pix[(y)*m.Stride : y*m.Stride+w]
			for x, v := range row {
				o := 3 * (y*w + x)
				out.pix[o], out.pix[o+1], out.pix[o+2] = v, v, v
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				r, g, bb, a := row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]
				if a != 255 && a != 0 { // premultiplied: recover straight alpha as color.NRGBAModel does
					c := color.NRGBAModel.Convert(color.RGBA{r, g, bb, a}).(color.NRGBA)
					r, g, bb = c.R, c.G, c.B
				}
				setComposite(out.pix[3*(y*w+x):], r, g, bb, a, bg)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				setComposite(out.pix[3*(y*w+x):], row[4*x], row[4*x+1], row[4*x+2], row[4*x+3], bg)
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(x+b.Min.X, y+b.Min.Y)).(color.NRGBA)
				setComposite(out.pix[3*(y*w+x):], c.R, c.G, c.B, c.A, bg)
			}
		}
	}
	return out
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
	const (
		scale = 16
		half  = 1 << (scale - 1)
		fixR  = 91881  // FIX(1.40200)
		fixB  = 116130 // FIX(1.77200)
		fixGR = 46802  // FIX(0.71414)
		fixGB = 22554  // FIX(0.34414)
	)
	x, z := int32(cr)-128, int32(cb)-128
	yy := int32(y)
	r := yy + (fixR*x+half)>>scale
	g := yy + (-fixGB*z-fixGR*x+half)>>scale
	b := yy + (fixB*z+half)>>scale
	return clampByte(r), clampByte(g), clampByte(b)
}

func clampByte(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
