package indexer

import (
	"bytes"
	"fmt"
	"image"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/heif"
	"github.com/glimpse-search/glimpse/turbojpeg"
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
// encoder.ErrUnsupportedImage or encoder.ErrTooLarge.
func (ix *Indexer) decode(data []byte, format string, pixels bool) (decoded, error) {
	switch format {
	case encoder.FormatJPEG:
		return ix.decodeJPEG(data, pixels)
	case encoder.FormatHEIF:
		return ix.decodeHEIF(data, pixels)
	}
	var d decoded
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return d, fmt.Errorf("%w: damaged %s header: %v", encoder.ErrUnsupportedImage, format, err)
	}
	d.w, d.h = cfg.Width, cfg.Height
	if err := ix.checkSize(format, d.w, d.h); err != nil {
		return d, err
	}
	if format == encoder.FormatTIFF {
		d.captured = captureTime(data)
	}
	if pixels {
		d.img, err = encoder.DecodeImageBytes(data, ix.imgOpts())
		d.model = d.img
	}
	return d, err
}

// imgOpts are the decoding caps; JPEGs come back as stored, oriented by the caller.
func (ix *Indexer) imgOpts() encoder.ImageOptions {
	return encoder.ImageOptions{MaxPixels: ix.o.MaxPixels, MaxBytes: ix.o.MaxBytes, KeepOrientation: true}
}

// setOriented sets d's images from a JPEG decoded as stored and its EXIF orientation o: the
// upright one, and the model's (the stored one when the model ignores the orientation).
func (ix *Indexer) setOriented(d *decoded, stored image.Image, o int) {
	d.img = encoder.Orient(stored, o)
	d.model = d.img
	if !ix.pre.EXIFTranspose() {
		d.model = stored
	}
}

func (ix *Indexer) checkSize(format string, w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %s of %dx%d pixels", encoder.ErrUnsupportedImage, format, w, h)
	}
	if px := int64(w) * int64(h); px > ix.o.MaxPixels {
		return fmt.Errorf("%w: %s of %dx%d = %d pixels, over the cap of %d (--max-pixels)",
			encoder.ErrTooLarge, format, w, h, px, ix.o.MaxPixels)
	}
	return nil
}

func (ix *Indexer) decodeJPEG(data []byte, pixels bool) (decoded, error) {
	var d decoded
	w, h, rgbOK, err := turbojpeg.Header(data)
	if err != nil {
		cfg, _, cerr := image.DecodeConfig(bytes.NewReader(data))
		if cerr != nil {
			return d, fmt.Errorf("%w: damaged jpeg header: %v", encoder.ErrUnsupportedImage, cerr)
		}
		w, h, rgbOK = cfg.Width, cfg.Height, false
	}
	if err := ix.checkSize(encoder.FormatJPEG, w, h); err != nil {
		return d, err
	}
	if err := encoder.CheckJPEG(data); err != nil {
		return d, err
	}
	o := encoder.ExifOrientation(data)
	d.w, d.h = w, h
	if o >= 5 {
		d.w, d.h = h, w
	}
	d.captured = captureTime(jpegExif(data))
	if !pixels {
		return d, nil
	}
	if rgbOK {
		f := turbojpeg.Factor{Num: 1, Denom: 1}
		if !ix.o.FullDecode {
			f = turbojpeg.ChooseFactor(w, h, ix.pre.Size(), max(ix.o.ThumbSize, 0))
		}
		img, err := turbojpeg.Decode(data, w, h, f)
		if err == nil {
			ix.setOriented(&d, img, o)
			return d, nil
		}
		ix.o.Logger.Debug("turbojpeg failed; using image/jpeg", "err", err)
	}
	// CMYK/YCCK, or damaged enough for libjpeg-turbo to warn: the standard library decides.
	img, err := encoder.DecodeImageBytes(data, ix.imgOpts())
	if err != nil {
		return d, err
	}
	ix.setOriented(&d, img, o)
	return d, nil
}

func (ix *Indexer) decodeHEIF(data []byte, pixels bool) (decoded, error) {
	var d decoded
	hi, err := heif.Decode(data, ix.o.MaxPixels, pixels)
	if err != nil {
		return d, fmt.Errorf("%w: %v", encoder.ErrUnsupportedImage, err)
	}
	d.w, d.h = hi.W, hi.H
	if err := ix.checkSize(encoder.FormatHEIF, d.w, d.h); err != nil {
		return d, err
	}
	d.captured = captureTime(hi.Exif)
	if hi.Img != nil { // libheif applies the HEIF's own rotation and mirroring
		d.img, d.model = hi.Img, hi.Img
	}
	return d, nil
}
