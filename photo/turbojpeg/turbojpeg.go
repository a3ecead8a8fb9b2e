package turbojpeg

/*
#cgo pkg-config: libturbojpeg
#include <turbojpeg.h>

static int tj_header(tjhandle h, const unsigned char *buf, unsigned long n, int *w, int *ht, int *cs) {
	int samp;
	return tjDecompressHeader3(h, buf, n, w, ht, &samp, cs);
}
*/
import "C"

import (
	"fmt"
	"image"
	"sync"
	"unsafe"
)

// Factor is a TurboJPEG scaling factor num/denom.
type Factor struct{ Num, Denom int }

// Scaled is TJSCALED: the size of dimension d decoded at this factor.
func (f Factor) Scaled(d int) int { return (d*f.Num + f.Denom - 1) / f.Denom }

var factors = sync.OnceValue(func() []Factor {
	var n C.int
	p := C.tjGetScalingFactors(&n)
	if p == nil || n <= 0 {
		return []Factor{{1, 1}}
	}
	sf := unsafe.Slice(p, int(n))
	out := make([]Factor, 0, n)
	for _, f := range sf {
		out = append(out, Factor{int(f.num), int(f.denom)})
	}
	return out
})

// ChooseFactor returns the largest reduction (smallest factor <= 1) whose output of a w x h
// image still has a shorter side >= minShort and a longer side >= minLong (each capped at the
// image's own size, so small images decode at 1/1).
func ChooseFactor(w, h, minShort, minLong int) Factor {
	short, long := min(w, h), max(w, h)
	minShort, minLong = min(minShort, short), min(minLong, long)
	best := Factor{1, 1}
	for _, f := range factors() {
		if f.Num > f.Denom { // upscaling
			continue
		}
		s, l := f.Scaled(short), f.Scaled(long)
		if s >= minShort && l >= minLong && f.Num*best.Denom < best.Num*f.Denom {
			best = f
		}
	}
	return best
}

// tjError returns the handle's last error message.
func tjError(h C.tjhandle) string { return C.GoString(C.tjGetErrorStr2(h)) }

// Header reads the size of a JPEG and whether libjpeg-turbo can decode it to RGB (not CMYK
// or YCCK, which the standard library decoder handles).
func Header(data []byte) (w, h int, rgbOK bool, err error) {
	hd := C.tjInitDecompress()
	if hd == nil {
		return 0, 0, false, fmt.Errorf("turbojpeg: %s", tjError(nil))
	}
	defer C.tjDestroy(hd)
	var cw, ch, cs C.int
	if C.tj_header(hd, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &cw, &ch, &cs) != 0 {
		return 0, 0, false, fmt.Errorf("turbojpeg header: %s", tjError(hd))
	}
	return int(cw), int(ch), cs != C.TJCS_CMYK && cs != C.TJCS_YCCK, nil
}

// Decode decodes data in the DCT domain at factor f into opaque RGBA, with
// libjpeg's accurate integer IDCT and fancy upsampling (what Pillow uses). Any error or
// warning (a truncated or damaged file) is returned; the caller falls back to image/jpeg.
func Decode(data []byte, w, h int, f Factor) (*image.RGBA, error) {
	hd := C.tjInitDecompress()
	if hd == nil {
		return nil, fmt.Errorf("turbojpeg: %s", tjError(nil))
	}
	defer C.tjDestroy(hd)
	sw, sh := f.Scaled(w), f.Scaled(h)
	img := image.NewRGBA(image.Rect(0, 0, sw, sh))
	rc := C.tjDecompress2(hd, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&img.Pix[0])), C.int(sw), C.int(img.Stride), C.int(sh),
		C.TJPF_RGBA, C.TJFLAG_ACCURATEDCT|C.TJFLAG_LIMITSCANS)
	if rc != 0 {
		return nil, fmt.Errorf("turbojpeg decode: %s", tjError(hd))
	}
	return img, nil
}

// Subsampling is the chroma subsampling of a compressed JPEG.
type Subsampling int

const (
	// Sub420 keeps the colour at half the width and half the height (the thumbnails: a third
	// smaller than Sub444 at the same quality).
	Sub420 Subsampling = iota
	// Sub444 keeps the colour at full resolution (the model-resolution copies, whose every
	// pixel a model reads).
	Sub444
)

// Compress compresses an opaque RGBA image (the alpha bytes are ignored) as a baseline
// 4:2:0 JPEG: the thumbnails, several times faster than image/jpeg.
func Compress(img *image.RGBA, quality int) ([]byte, error) {
	return CompressSampled(img, quality, Sub420)
}

// CompressSampled is [Compress] with the chroma subsampling s.
func CompressSampled(img *image.RGBA, quality int, s Subsampling) ([]byte, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("turbojpeg: empty image")
	}
	samp := C.int(C.TJSAMP_420)
	switch s {
	case Sub420:
	case Sub444:
		samp = C.TJSAMP_444
	default:
		return nil, fmt.Errorf("turbojpeg: unknown subsampling %d", s)
	}
	hd := C.tjInitCompress()
	if hd == nil {
		return nil, fmt.Errorf("turbojpeg: %s", tjError(nil))
	}
	defer C.tjDestroy(hd)
	var out *C.uchar
	var n C.ulong
	rc := C.tjCompress2(hd, (*C.uchar)(unsafe.Pointer(&img.Pix[img.PixOffset(b.Min.X, b.Min.Y)])),
		C.int(b.Dx()), C.int(img.Stride), C.int(b.Dy()), C.TJPF_RGBA, &out, &n, samp,
		C.int(quality), 0)
	if out != nil {
		defer C.tjFree(out)
	}
	if rc != 0 {
		return nil, fmt.Errorf("turbojpeg encode: %s", tjError(hd))
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}
