package photo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP

	_ "github.com/glimpse-search/glimpse/photo/heif" // register HEIC/HEIF (libheif)
	"github.com/glimpse-search/glimpse/photo/turbojpeg"
)

// Defaults of Options.
const (
	DefaultMaxPixels       = 100_000_000 // 100 megapixels: ~400 MB decoded as RGBA
	DefaultMaxBytes        = 256 << 20   // 256 MiB of encoded image
	DefaultMaxDecodedBytes = 1 << 30     // 1 GiB decoded: 100 MP at 8 bits, about 134 MP of 16-bit gray
)

// Options caps what [Decode] accepts from untrusted input. Zero fields take the defaults.
type Options struct {
	// MaxPixels caps width x height, checked from the header before decoding
	// (default DefaultMaxPixels).
	MaxPixels int64
	// MaxBytes caps the encoded size read (default DefaultMaxBytes).
	MaxBytes int64
	// MaxDecodedBytes caps the memory of the decoded image, width x height x the bytes per
	// pixel of the decoder's output (8 for a 16-bit RGBA PNG, 4 for RGBA and for JPEGs, 1 for
	// gray or paletted), checked from the header before decoding (default
	// DefaultMaxDecodedBytes). An upload of 10,000 x 10,000 16-bit pixels is 800 MB decoded
	// however small its file.
	MaxDecodedBytes int64
	// KeepOrientation returns JPEGs as stored, ignoring their EXIF orientation (default false:
	// upright).
	KeepOrientation bool
}

func (o Options) withDefaults() Options {
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDecodedBytes <= 0 {
		o.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	return o
}

// Read decodes an image file from r: at most MaxBytes are read, then as [Decode].
func Read(r io.Reader, o Options) (image.Image, error) {
	o = o.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, o.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrUnsupported, err)
	}
	if int64(len(data)) > o.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, o.MaxBytes)
	}
	return Decode(data, o)
}

// Decode decodes an image file at full size after [Check]: JPEGs through libjpeg-turbo as
// Pillow decodes them (image/jpeg for CMYK and damaged files), upright by their EXIF
// orientation unless KeepOrientation; HEIF upright as libheif decodes it; the other formats
// through their standard decoders. Errors wrap [ErrUnsupported] or [ErrTooLarge]. Safe for
// concurrent use.
func Decode(data []byte, o Options) (image.Image, error) {
	o = o.withDefaults()
	format, err := Check(data, o)
	if err != nil {
		return nil, err
	}
	img := decodeJPEG(data, format)
	if img == nil {
		img, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrUnsupported, format, err)
	}
	if format == "jpeg" && !o.KeepOrientation {
		img = Orient(img, Orientation(data))
	}
	return img, nil
}

// Check runs every check of [Decode] that needs no decoding (the format, the byte, pixel and
// decoded-bytes caps from the header, a JPEG's scan count) and returns the format: the cheap
// refusal of a crafted file before it waits for any decoding capacity.
func Check(data []byte, o Options) (format string, err error) {
	o = o.withDefaults()
	if len(data) == 0 {
		return "", fmt.Errorf("%w: empty file", ErrUnsupported)
	}
	if int64(len(data)) > o.MaxBytes {
		return "", fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, len(data), o.MaxBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", fmt.Errorf("%w: %s of %dx%d pixels", ErrUnsupported, format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > o.MaxPixels {
		return "", fmt.Errorf("%w: %s of %dx%d = %d pixels, over %d", ErrTooLarge, format, cfg.Width, cfg.Height,
			px, o.MaxPixels)
	}
	if n := DecodedBytes(cfg, format); n > o.MaxDecodedBytes {
		return "", fmt.Errorf("%w: %s of %dx%d decodes to %d MiB, over %d MiB", ErrTooLarge, format, cfg.Width,
			cfg.Height, n>>20, o.MaxDecodedBytes>>20)
	}
	if format == "jpeg" {
		if err := CheckJPEG(data); err != nil {
			return "", err
		}
	}
	return format, nil
}

// DecodedBytes is the memory a decoder of this package's formats allocates for an image with
// header cfg: width x height x bytes per pixel of its output (JPEGs decode to RGBA; the
// standard decoders to the header's colour model).
func DecodedBytes(cfg image.Config, format string) int64 {
	bpp := int64(4)
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	case color.Gray16Model:
		bpp = 2
	case color.GrayModel, color.AlphaModel:
		bpp = 1
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		}
	}
	if format == "jpeg" {
		bpp = 4
	}
	return int64(cfg.Width) * int64(cfg.Height) * bpp
}

// decodeJPEG decodes an RGB JPEG with libjpeg-turbo at full size, the pixels Pillow decodes
// (the standard library's decoder differs by a few levels); nil for other formats, CMYK and
// YCCK JPEGs and files libjpeg-turbo finds damaged, which image/jpeg then decides on.
func decodeJPEG(data []byte, format string) image.Image {
	if format != "jpeg" {
		return nil
	}
	img, err := DecodeJPEGScaled(data, 0, 0)
	if err != nil {
		return nil
	}
	return img
}

// DecodeJPEGScaled decodes an RGB JPEG as stored (no orientation) with libjpeg-turbo at the
// smallest DCT scale (1/8 .. 1) whose output still has a shorter side of at least minShort and
// a longer side of at least minLong (0 and 0: full size). It fails for CMYK and YCCK files and
// whatever libjpeg-turbo finds damaged; [Decode] then falls back to image/jpeg. The caller has
// run [Check] or its own caps.
func DecodeJPEGScaled(data []byte, minShort, minLong int) (image.Image, error) {
	w, h, rgb, err := turbojpeg.Header(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if !rgb {
		return nil, fmt.Errorf("%w: not an RGB JPEG (CMYK or YCCK)", ErrUnsupported)
	}
	f := turbojpeg.Factor{Num: 1, Denom: 1}
	if minShort > 0 || minLong > 0 {
		f = turbojpeg.ChooseFactor(w, h, minShort, minLong)
	}
	img, err := turbojpeg.Decode(data, w, h, f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return img, nil
}

// Orient applies an EXIF orientation (1..8, as [Orientation] reads it) so the image displays
// upright; other values return img unchanged.
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
