package indexer

import (
	"bytes"
	"fmt"
	"image"
	"time"

	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/photo/heif"
)

// decoded is a probed (and, when asked, decoded) image.
type decoded struct {
	img image.Image // upright, for the thumbnail; JPEGs possibly pre-scaled; nil when only probed
	// model is the model's input: img, or for a model that ignores EXIF orientation
	// (Preprocessor.EXIFTranspose false) a JPEG as stored.
	model    image.Image
	w, h     int       // full-resolution size as displayed (after EXIF orientation)
	captured time.Time // EXIF DateTimeOriginal; zero when unknown
}

// decode reads the header of data (format from sniff), refuses images over MaxPixels before
// any pixel is decoded, reads the EXIF capture time and, when pixels is set, decodes the image
// upright (and, for a model that ignores EXIF orientation, keeps the JPEG as stored for the
// model). JPEGs go through libjpeg-turbo at the smallest DCT scale that still covers the model
// input (shorter side >= S) and the thumbnail (longer side >= ThumbSize); HEIF through
// libheif; the rest through the standard library decoders. Errors wrap
// photo.ErrUnsupported or photo.ErrTooLarge.
func (ix *Indexer) decode(data []byte, format string, pixels bool) (decoded, error) {
	switch format {
	case photo.FormatJPEG:
		return ix.decodeJPEG(data, pixels)
	case photo.FormatHEIF:
		return ix.decodeHEIF(data, pixels)
	}
	var d decoded
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return d, fmt.Errorf("%w: damaged %s header: %v", photo.ErrUnsupported, format, err)
	}
	d.w, d.h = cfg.Width, cfg.Height
	if err := ix.checkSize(format, d.w, d.h); err != nil {
		return d, err
	}
	if format == photo.FormatTIFF {
		d.captured = photo.CaptureTime(data)
	}
	if pixels {
		d.img, err = photo.Decode(data, ix.imgOpts())
		d.model = d.img
	}
	return d, err
}

// imgOpts are the decoding caps; JPEGs come back as stored, oriented by the caller.
func (ix *Indexer) imgOpts() photo.Options {
	return photo.Options{MaxPixels: ix.o.MaxPixels, MaxBytes: ix.o.MaxBytes, KeepOrientation: true}
}

// setOriented sets d's images from a JPEG decoded as stored and its EXIF orientation o: the
// upright one, and the model's (the stored one when the model ignores the orientation).
func (ix *Indexer) setOriented(d *decoded, stored image.Image, o int) {
	d.img = photo.Orient(stored, o)
	d.model = d.img
	if !ix.pre.EXIFTranspose() {
		d.model = stored
	}
}

func (ix *Indexer) checkSize(format string, w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %s of %dx%d pixels", photo.ErrUnsupported, format, w, h)
	}
	if px := int64(w) * int64(h); px > ix.o.MaxPixels {
		return fmt.Errorf("%w: %s of %dx%d = %d pixels, over the cap of %d (--max-pixels)",
			photo.ErrTooLarge, format, w, h, px, ix.o.MaxPixels)
	}
	return nil
}

func (ix *Indexer) decodeJPEG(data []byte, pixels bool) (decoded, error) {
	var d decoded
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return d, fmt.Errorf("%w: damaged jpeg header: %v", photo.ErrUnsupported, err)
	}
	w, h := cfg.Width, cfg.Height
	if err := ix.checkSize(photo.FormatJPEG, w, h); err != nil {
		return d, err
	}
	if err := photo.CheckJPEG(data); err != nil {
		return d, err
	}
	o := photo.Orientation(data)
	d.w, d.h = w, h
	if o >= 5 {
		d.w, d.h = h, w
	}
	d.captured = photo.CaptureTime(photo.JPEGExif(data))
	if !pixels {
		return d, nil
	}
	short, long := 0, 0 // full size
	if !ix.o.FullDecode {
		short, long = ix.pre.Size(), max(ix.o.ThumbSize, 0)
	}
	img, err := photo.DecodeJPEGScaled(data, short, long)
	if err != nil {
		// CMYK/YCCK, or damaged enough for libjpeg-turbo to warn: the standard library decides
		ix.o.Logger.Debug("turbojpeg failed; using image/jpeg", "err", err)
		if img, err = photo.Decode(data, ix.imgOpts()); err != nil {
			return d, err
		}
	}
	ix.setOriented(&d, img, o)
	return d, nil
}

func (ix *Indexer) decodeHEIF(data []byte, pixels bool) (decoded, error) {
	var d decoded
	hi, err := heif.Decode(data, ix.o.MaxPixels, pixels)
	if err != nil {
		return d, fmt.Errorf("%w: %v", photo.ErrUnsupported, err)
	}
	d.w, d.h = hi.W, hi.H
	if err := ix.checkSize(photo.FormatHEIF, d.w, d.h); err != nil {
		return d, err
	}
	d.captured = photo.CaptureTime(hi.Exif)
	if hi.Img != nil { // libheif applies the HEIF's own rotation and mirroring
		d.img, d.model = hi.Img, hi.Img
	}
	return d, nil
}
