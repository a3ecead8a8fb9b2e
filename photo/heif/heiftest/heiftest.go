package heiftest

/*
#cgo pkg-config: libheif
#include <stdlib.h>
#include <string.h>
#include <libheif/heif.h>

typedef struct {
	unsigned char *data;
	size_t len, cap;
} membuf;

static struct heif_error membuf_write(struct heif_context *ctx, const void *data, size_t size, void *userdata) {
	membuf *b = userdata;
	struct heif_error e = {heif_error_Ok, heif_suberror_Unspecified, "ok"};
	if (b->len + size > b->cap) {
		size_t c = b->cap ? b->cap : 1 << 16;
		while (c < b->len + size) c *= 2;
		unsigned char *p = realloc(b->data, c);
		if (p == NULL) {
			e.code = heif_error_Encoding_error;
			e.message = "out of memory";
			return e;
		}
		b->data = p;
		b->cap = c;
	}
	memcpy(b->data + b->len, data, size);
	b->len += size;
	return e;
}

// encode_rgb compresses w x h packed RGB rows (stride bytes apart) as a HEIC into out; on
// failure it copies libheif's message into msg and returns its error code.
static int encode_rgb(const unsigned char *rgb, int w, int h, int stride, int quality, membuf *out,
		char *msg, size_t msglen) {
	struct heif_context *ctx = heif_context_alloc();
	struct heif_encoder *enc = NULL;
	struct heif_image *img = NULL;
	struct heif_error err = heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc);
	if (err.code == heif_error_Ok) {
		err = heif_encoder_set_lossy_quality(enc, quality);
	}
	if (err.code == heif_error_Ok) {
		heif_encoder_set_parameter_string(enc, "preset", "ultrafast"); // x265's; other encoders lack it
		err = heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
	}
	if (err.code == heif_error_Ok) {
		err = heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
	}
	if (err.code == heif_error_Ok) {
		int dst;
		uint8_t *p = heif_image_get_plane(img, heif_channel_interleaved, &dst);
		for (int y = 0; y < h; y++) {
			memcpy(p + (size_t)y * dst, rgb + (size_t)y * stride, (size_t)3 * w);
		}
		err = heif_context_encode_image(ctx, img, enc, NULL, NULL);
	}
	if (err.code == heif_error_Ok) {
		struct heif_writer wr = {1, membuf_write};
		err = heif_context_write(ctx, &wr, out);
	}
	if (err.code != heif_error_Ok) {
		strncpy(msg, err.message ? err.message : "", msglen - 1);
		msg[msglen - 1] = 0;
	}
	if (img != NULL) heif_image_release(img);
	if (enc != NULL) heif_encoder_release(enc);
	heif_context_free(ctx);
	return err.code;
}
*/
import "C"

import (
	"fmt"
	"image"
	"image/draw"
	"unsafe"
)

// Encode compresses img (opaque; alpha is dropped) as a HEIC of one HEVC still at quality
// 0..100, with x265's fastest preset. It is safe for concurrent use.
func Encode(img image.Image, quality int) ([]byte, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("heiftest: empty image")
	}
	if quality < 0 || quality > 100 {
		return nil, fmt.Errorf("heiftest: quality %d: want 0..100", quality)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(b)
		draw.Draw(rgba, b, img, b.Min, draw.Src)
	}
	w, h := b.Dx(), b.Dy()
	rgb := make([]byte, 3*w*h)
	for y := range h {
		row := rgba.Pix[rgba.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := range w {
			copy(rgb[3*(y*w+x):3*(y*w+x)+3], row[4*x:4*x+3])
		}
	}
	var out C.membuf
	defer C.free(unsafe.Pointer(out.data))
	var msg [256]C.char
	if rc := C.encode_rgb((*C.uchar)(unsafe.Pointer(&rgb[0])), C.int(w), C.int(h), C.int(3*w), C.int(quality), &out,
		&msg[0], C.size_t(len(msg))); rc != 0 {
		return nil, fmt.Errorf("heiftest: libheif encode: %s (error %d)", C.GoString(&msg[0]), int(rc))
	}
	return C.GoBytes(unsafe.Pointer(out.data), C.int(out.len)), nil
}
