package searcher

import (
	"context"
	"fmt"
	"image"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// ImageInput is a query image: pixels (an upload or a local file, see [Searcher.Decode]) or,
// when Image is nil, an indexed image by id.
type ImageInput struct {
	Image   image.Image
	ImageID uint64
}

// SimilarQuery is an image -> image query. K, Depth and Limit apply; it ranks by ITC (an image
// pair has no ITM score), so MinScore, Rank and NoRerank do not.
type SimilarQuery struct {
	ImageInput
	Params
	Filter Filter
}

// Similar finds indexed images close to an image by ITC. Querying by id leaves that image out.
func (s *Searcher) Similar(ctx context.Context, q SimilarQuery) (*ImageResult, error) {
	q.NoRerank = true
	p, err := s.params(q.Params)
	if err != nil {
		return nil, err
	}
	if err := q.Filter.validate(); err != nil {
		return nil, err
	}
	if q.Image == nil && q.ImageID == 0 {
		return nil, fmt.Errorf("%w: no query image or image id", ErrInput)
	}
	clk := newClock(s.o.Now)
	res := &ImageResult{Hits: []ImageHit{}}
	ns, err := s.namespace()
	if err != nil {
		return nil, err
	}
	var t Timings
	vec, _, err := s.queryImage(ctx, ns, q.ImageInput, false, clk, &t)
	if err != nil {
		return nil, err
	}
	if ns == nil || ns.Len() == 0 {
		res.Page = p.page(0, 0, 0)
		res.Reason = ReasonNoIndex
		if ns != nil {
			res.Reason = ReasonNoImages
		}
		res.Timings.Total = clk.total()
		return res, nil
	}
	res.Page, res.Hits, err = s.rankImages(ctx, p, vec, q.Filter, q.ImageID, nil, clk, &t)
	if err != nil {
		return nil, err
	}
	t.Total = clk.total()
	res.Timings = t.round()
	return res, nil
}

// queryImage returns a query image's embedding and, when tokens is set, its ITM tokens: from
// the vision encoder for pixels; for an indexed id from the stored vector and the token source.
func (s *Searcher) queryImage(ctx context.Context, ns *store.Namespace, in ImageInput, tokens bool,
	clk *clock, t *Timings) ([]float32, []float32, error) {
	if in.Image != nil {
		out, err := s.m.Vision.Encode(ctx, []image.Image{in.Image}, encoder.VisionOptions{Tokens: tokens})
		if err != nil {
			return nil, nil, fmt.Errorf("searcher: encode query image: %w", err)
		}
		t.ImageEncode = clk.lap()
		var tok []float32
		if tokens {
			tok = out.Tokens[0]
		}
		return out.Embeds[0], tok, nil
	}
	r, err := s.record(in.ImageID)
	if err != nil {
		return nil, nil, err
	}
	var vec []float32
	ok := false
	if ns != nil {
		if vec, ok, err = ns.ImageVectorContext(ctx, r.ContentID); err != nil {
			return nil, nil, fmt.Errorf("searcher: image %d (%s): %w", r.ID, r.Path, err)
		}
	}
	if !ok {
		return nil, nil, fmt.Errorf("searcher: image %d (%s) has no embedding for model %s: %w",
			r.ID, r.Path, s.info.Name, store.ErrNoVector)
	}
	var tok []float32
	if tokens {
		var st rerank.Stats
		toks, errs := s.src.Tokens(ctx, []rerank.ImageRef{s.ref(r)}, &st)
		if errs != nil {
			return nil, nil, fmt.Errorf("searcher: query image %d (%s): %w", r.ID, r.Path, errs[0])
		}
		tok = toks[0]
		t.ImageEncode = ms(st.Encode)
	}
	t.Fetch += clk.lap() - t.ImageEncode
	return vec, tok, nil
}
