package indexer

import (
	"image"
	"os"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/photo/turbojpeg"
)

// copyQuality is the JPEG quality of model-resolution copies, which keep full-resolution chroma
// (4:4:4): 38 KiB a photo on average at S = 384, 57 KiB for the most detailed of the encoder's
// test photos (the Hubble deep field), 2 to 3.5 KiB at the default model's 80. Their tokens
// have a cosine of at least 0.9989 with the tokens of the pixels they copy (the default model,
// the encoder's test photos and 20 scenes); quality 95 gives 0.9996 at 1.4x the bytes, and
// 4:2:0 chroma, as thumbnails have, 0.87.
const copyQuality = 90

// preprocess fills it.pix with the model's input tensor of img (the image the model sees:
// decoded, upright as the model wants it) when pixels is set, and it.copy with its
// model-resolution copy when the policy keeps copies. img is resized once: the copy is the
// resized 8-bit image the tensor is normalised from (encoder.Preprocessor.Resized, which the
// preprocessing maps to itself), so the tensor is the same as from img. A copy that cannot be
// compressed is logged and left out.
func (ix *Indexer) preprocess(it *item, img image.Image, pixels bool) error {
	if ix.copyDir != "" {
		rgb, err := ix.pre.Resized(img)
		if err != nil {
			return err
		}
		if it.copy, err = turbojpeg.CompressSampled(rgb, copyQuality, turbojpeg.Sub444); err != nil {
			ix.o.Logger.Warn("cannot make a model-resolution copy", "path", it.rec.Path, "stage", "copy", "err", err)
		}
		img = rgb
	}
	if pixels {
		it.pix = make([]float32, ix.pre.Len())
		return ix.pre.PixelsInto(it.pix, img)
	}
	return nil
}

// missingCopy reports whether the policy keeps copies and the content's copy is missing or
// empty (a crash of a file system that reorders writes).
func (ix *Indexer) missingCopy(contentID uint64) bool {
	if ix.copyDir == "" {
		return false
	}
	st, err := os.Stat(library.CopyPath(ix.copyDir, contentID))
	return err != nil || st.Size() == 0
}

// storeCopies writes the model-resolution copies of a committed batch's contents, keyed by
// content id. Like the token cache's files they are not fsynced: a copy lost or damaged by a
// crash costs a decode of the original at query time, and the next run over its folder writes
// it again. A failure is logged.
func (ix *Indexer) storeCopies(kept []*item) {
	if ix.copyDir == "" {
		return
	}
	for _, it := range kept {
		if it.copy == nil || (it.status != StatusIndexed && !it.refill) {
			it.copy = nil
			continue
		}
		id, ok, err := ix.lib.DB().ContentID(it.rec.SHA256)
		if err == nil && ok {
			err = library.WriteFileAtomic(library.CopyPath(ix.copyDir, id), it.copy, false)
		}
		if err != nil {
			ix.o.Logger.Warn("model-resolution copy", "path", it.rec.Path, "error", err.Error())
		}
		it.copy = nil
	}
}
