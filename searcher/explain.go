package searcher

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"strings"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
)

// ErrNoAttention: the model's ITM graph has no cross_attention output to explain with.
var ErrNoAttention = errors.New("searcher: model has no cross-attention output")

// ExplainQuery is an (image, text) pair to explain.
type ExplainQuery struct {
	ImageInput // pixels, or an indexed image whose file is read
	Text       string
}

// Explanation is where the ITM head looked: the last fusion layer's cross-attention from the
// text's real tokens to the image patches, as a heat map.
type Explanation struct {
	Text   string  `json:"text"`
	PMatch float64 `json:"p_match"`
	ITC    float64 `json:"itc"`
	// Grid is the patch grid side; Heat its grid x grid values, row-major, scaled to [0,1].
	Grid int       `json:"grid"`
	Heat []float32 `json:"heat"`
	// Image is the explained image, the base of Overlay.
	Image   image.Image `json:"-"`
	Timings Timings     `json:"timings_ms"`
}

// Explain scores one pair with the ITM head and returns its cross-attention heat map: the
// attention averaged over the text's real tokens, the CLS image token dropped, reshaped to the
// manifest's patch grid. Render it with [Explanation.Overlay] or [Explanation.WritePNG].
func (s *Searcher) Explain(ctx context.Context, q ExplainQuery) (*Explanation, error) {
	switch {
	case s.rr == nil:
		return nil, fmt.Errorf("searcher: explain: model %s: %w", s.info.Name, encoder.ErrNoITM)
	case !s.m.ITM.HasCrossAttention():
		return nil, fmt.Errorf("searcher: explain: model %s: %w", s.info.Name, ErrNoAttention)
	case strings.TrimSpace(q.Text) == "":
		return nil, fmt.Errorf("%w: the text is empty", ErrInput)
	case len(q.Text) > MaxQueryBytes:
		return nil, fmt.Errorf("%w: the text is %d bytes, over %d", ErrInput, len(q.Text), MaxQueryBytes)
	}
	dims := s.m.Manifest.Dims
	if dims.PatchGrid < 1 || dims.ImageTokens != 1+dims.PatchGrid*dims.PatchGrid {
		return nil, fmt.Errorf("searcher: explain: %d image tokens are not CLS + %d² patches", dims.ImageTokens, dims.PatchGrid)
	}
	clk := newClock(s.o.Now)
	var t Timings
	img := q.Image
	if img == nil {
		if q.ImageID == 0 {
			return nil, fmt.Errorf("%w: no image or image id", ErrInput)
		}
		var err error
		if img, err = s.loadImage(q.ImageID); err != nil {
			return nil, err
		}
		t.Fetch = clk.lap()
	}
	vis, err := s.m.Vision.Encode(ctx, []image.Image{img}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		return nil, fmt.Errorf("searcher: explain: %w", err)
	}
	t.ImageEncode = clk.lap()
	texts, embeds, err := s.rr.EncodeTexts(ctx, []string{q.Text})
	if err != nil {
		return nil, fmt.Errorf("searcher: explain: %w", err)
	}
	t.TextEncode = clk.lap()
	att, err := s.rr.Attend(ctx, vis.Tokens[0], texts[0])
	if err != nil {
		return nil, fmt.Errorf("searcher: explain: %w", err)
	}
	t.Rerank = clk.lap()
	if att.Cross == nil {
		return nil, fmt.Errorf("searcher: explain: model %s: %w", s.info.Name, ErrNoAttention)
	}
	e := &Explanation{Text: q.Text, PMatch: float64(att.PMatch), ITC: dot(vis.Embeds[0], embeds[0]),
		Grid: dims.PatchGrid, Image: img}
	e.Heat = heatMap(att.Cross, texts[0].Mask, dims.ImageTokens, dims.PatchGrid)
	t.Total = clk.total()
	e.Timings = t.round()
	return e, nil
}

// loadImage decodes an indexed image's file.
func (s *Searcher) loadImage(id uint64) (image.Image, error) {
	r, err := s.record(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, fmt.Errorf("searcher: image %d: %w (%w)", id, err, rerank.ErrUnavailable)
	}
	defer f.Close()
	// the file at the path must still be the one indexed: anything else put there since is not
	// this image (and may not be meant to be shown)
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() || info.Size() != r.Size || !info.ModTime().Equal(r.ModTime) {
		return nil, fmt.Errorf("searcher: image %d: the file %s changed since it was indexed; re-index its folder (%w)",
			id, r.Path, rerank.ErrUnavailable)
	}
	img, err := s.m.Preprocessor().Decode(f)
	if err != nil {
		return nil, fmt.Errorf("searcher: image %d (%s): %w", id, r.Path, err)
	}
	return img, nil
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// heatMap averages the cross-attention rows [L][N] of the real text tokens, drops the CLS image
// token and scales the grid x grid patch values to [0,1].
func heatMap(cross []float32, mask []int64, n, grid int) []float32 {
	heat := make([]float32, grid*grid)
	for l, m := range mask {
		if m == 0 {
			continue
		}
		row := cross[l*n : (l+1)*n]
		for j := range heat {
			heat[j] += row[1+j]
		}
	}
	lo, hi := heat[0], heat[0]
	for _, v := range heat {
		lo, hi = min(lo, v), max(hi, v)
	}
	for j := range heat {
		if hi > lo {
			heat[j] = (heat[j] - lo) / (hi - lo)
		} else {
			heat[j] = 0
		}
	}
	return heat
}
