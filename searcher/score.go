package searcher

import (
	"context"
	"fmt"
	"image"
	"strings"

	"github.com/glimpse-search/glimpse/encoder"
)

// ScoreQuery is one (image, text) pair for the ITM head.
type ScoreQuery struct {
	ImageInput // pixels, or an indexed image whose file is read (as Explain reads it)
	Text       string
}

// Score returns the ITM head's [p_no_match, p_match] for one pair, the output of ModelScope's
// image-text retrieval pipeline. A blank text, a missing image or an over-long text is an
// ErrInput error; a dual encoder gives encoder.ErrNoITM.
func (s *Searcher) Score(ctx context.Context, q ScoreQuery) ([2]float32, error) {
	var none [2]float32
	switch {
	case s.rr == nil:
		return none, fmt.Errorf("searcher: score: model %s: %w", s.info.Name, encoder.ErrNoITM)
	case strings.TrimSpace(q.Text) == "":
		return none, fmt.Errorf("%w: the text is empty", ErrInput)
	case len(q.Text) > MaxQueryBytes:
		return none, fmt.Errorf("%w: the text is %d bytes, over %d", ErrInput, len(q.Text), MaxQueryBytes)
	case q.Image == nil && q.ImageID == 0:
		return none, fmt.Errorf("%w: no image or image id", ErrInput)
	}
	img := q.Image
	if img == nil {
		var err error
		if img, err = s.loadImage(q.ImageID); err != nil {
			return none, err
		}
	}
	vis, err := s.m.Vision.Encode(ctx, []image.Image{img}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		return none, fmt.Errorf("searcher: score: %w", err)
	}
	texts, _, err := s.rr.EncodeTexts(ctx, []string{q.Text})
	if err != nil {
		return none, fmt.Errorf("searcher: score: %w", err)
	}
	sc, err := s.rr.Images(ctx, texts[0], [][]float32{vis.Tokens[0]})
	if err != nil {
		return none, fmt.Errorf("searcher: score: %w", err)
	}
	return encoder.Softmax2(sc[0].Logits), nil
}
