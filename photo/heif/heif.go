package heif

/*
#cgo pkg-config: libheif
#include <stdlib.h>
#include <libheif/heif.h>
*/
import "C"

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"sync"
	"unsafe"
)

var heifInit = sync.OnceFunc(func() { C.heif_init(nil) })

func heifErr(op string, e C.struct_heif_error) error {
	if e.code == C.heif_error_Ok {
		return nil
	}
	return fmt.Errorf("libheif %s: %s", op, C.GoString(e.message))
}

// Image is a HEIF file's primary image.
type Image struct {
	W, H int          // displayed size (libheif applies the file's rotation and mirroring)
	Exif []byte       // TIFF structure of the Exif block, nil when none
	Img  *image.NRGBA // the pixels; nil when only probed or over the pixel cap
}

// Decode reads the primary image of a HEIF file. When pixels is false only the size and Exif
// are read; otherwise an image over maxPixels (width x height) is returned without pixels,
// before anything is decoded.
func Decode(data []byte, maxPixels int64, pixels bool) (*Image, error) {
	heifInit()
	ctx := C.heif_context_alloc()
	if ctx == nil {
		return nil, fmt.Errorf("libheif: out of memory")
	}
	defer C.heif_context_free(ctx)
	buf := C.CBytes(data) // libheif keeps pointers into the buffer while ctx lives
	defer C.free(buf)
	if err := heifErr("read", C.heif_context_read_from_memory_without_copy(ctx, buf, C.size_t(len(data)), nil)); err != nil {
		return nil, err
	}
	var hd *C.struct_heif_image_handle
	if err := heifErr("primary image", C.heif_context_get_primary_image_handle(ctx, &hd)); err != nil {
		return nil, err
	}
	defer C.heif_image_handle_release(hd)
	out := &Image{W: int(C.heif_image_handle_get_width(hd)), H: int(C.heif_image_handle_get_height(hd))}
	if out.W <= 0 || out.H <= 0 {
		return nil, fmt.Errorf("libheif: image of %dx%d pixels", out.W, out.H)
	}
	out.Exif = heifExif(hd)
	if !pixels || int64(out.W)*int64(out.H) > maxPixels {
		return out, nil
	}
	var img *C.struct_heif_image
	if err := heifErr("decode", C.heif_decode_image(hd, &img, C.heif_colorspace_RGB, C.heif_chroma_interleaved_RGBA, nil)); err != nil {
		return nil, err
	}
	defer C.heif_image_release(img)
	var stride C.int
	p := C.heif_image_get_plane_readonly(img, C.heif_channel_interleaved, &stride)
	w := int(C.heif_image_get_width(img, C.heif_channel_interleaved))
	h := int(C.heif_image_get_height(img, C.heif_channel_interleaved))
	if p == nil || w <= 0 || h <= 0 || int(stride) < 4*w {
		return nil, fmt.Errorf("libheif: no interleaved RGBA plane")
	}
	src := unsafe.Slice((*byte)(unsafe.Pointer(p)), int(stride)*(h-1)+4*w)
	out.W, out.H = w, h
	out.Img = image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		copy(out.Img.Pix[y*out.Img.Stride:y*out.Img.Stride+4*w], src[y*int(stride):])
	}
	return out, nil
}

// Brands are the ftyp major brands read through libheif: HEVC stills and sequences, the
// generic image brands, AVIF.
var Brands = []string{"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif", "avis"}

// maxRegistered caps the pixels image.Decode decodes through this package; callers check
// their own caps from image.DecodeConfig first.
const maxRegistered = 1 << 30

// The "heif" format of package image: importing this package lets image.Decode and
// image.DecodeConfig read HEIF files (upright, 8-bit NRGBA).
func init() {
	for _, b := range Brands {
		image.RegisterFormat("heif", "????ftyp"+b, decodeImage, decodeConfig)
	}
}

func decodeImage(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	im, err := Decode(data, maxRegistered, true)
	if err != nil {
		return nil, err
	}
	if im.Img == nil {
		return nil, fmt.Errorf("libheif: image of %dx%d pixels is too large", im.W, im.H)
	}
	return im.Img, nil
}

func decodeConfig(r io.Reader) (image.Config, error) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return image.Config{}, err
	}
	im, err := Decode(buf.Bytes(), 0, false)
	if err != nil {
		return image.Config{}, err
	}
	return image.Config{ColorModel: color.NRGBAModel, Width: im.W, Height: im.H}, nil
}

// heifExif returns the TIFF structure of the first Exif metadata block (the block starts
// with a 4-byte offset to the TIFF header).
func heifExif(hd *C.struct_heif_image_handle) []byte {
	kind := C.CString("Exif")
	defer C.free(unsafe.Pointer(kind))
	var id C.heif_item_id
	if C.heif_image_handle_get_list_of_metadata_block_IDs(hd, kind, &id, 1) < 1 {
		return nil
	}
	n := int(C.heif_image_handle_get_metadata_size(hd, id))
	if n < 4 || n > 1<<20 {
		return nil
	}
	b := make([]byte, n)
	if heifErr("exif", C.heif_image_handle_get_metadata(hd, id, unsafe.Pointer(&b[0]))) != nil {
		return nil
	}
	off := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	if off < 0 || 4+off >= n {
		return nil
	}
	return b[4+off:]
}
