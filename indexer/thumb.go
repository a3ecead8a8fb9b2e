package indexer

import (
	"errors"
	"image"
	"image/color"
	"image/draw"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"

	"github.com/glimpse-search/glimpse/photo/turbojpeg"
)

// thumbQuality is the JPEG quality of thumbnails.
const thumbQuality = 82

// thumbnail writes the thumbnail of an upright image (longest side ThumbSize, never
// upscaled, transparency flattened on white) to its content-keyed path, unless a non-empty one
// exists (an empty one, left by a crash of a filesystem that reorders writes, is made again).
func (ix *Indexer) thumbnail(img image.Image, sha [32]byte) error {
	if ix.o.ThumbSize < 0 {
		return nil
	}
	p := ix.lib.ThumbPath(sha)
	if st, err := os.Stat(p); err == nil && st.Size() > 0 || err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	b := img.Bounds()
	var t image.Image = img
	if max(b.Dx(), b.Dy()) > ix.o.ThumbSize {
		t = imaging.Fit(img, ix.o.ThumbSize, ix.o.ThumbSize, imaging.CatmullRom)
	}
	data, err := turbojpeg.Compress(opaqueRGBA(t), thumbQuality)
	if err != nil {
		return err
	}
	if _, ok := ix.thumbDirs.Load(filepath.Dir(p)); !ok {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		ix.thumbDirs.Store(filepath.Dir(p), true)
	}
	return ix.lib.WriteFile(p, data)
}

// opaqueRGBA returns img as an opaque *image.RGBA, flattened on white, without copying
// when it already is one (or an opaque NRGBA, whose bytes are the same).
func opaqueRGBA(img image.Image) *image.RGBA {
	switch m := img.(type) {
	case *image.RGBA:
		if m.Opaque() {
			return m
		}
	case *image.NRGBA:
		if m.Opaque() {
			return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		}
	}
	flat := image.NewRGBA(img.Bounds())
	draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
	return flat
}
