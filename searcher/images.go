package searcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/encoder/tokenizer"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// Filter restricts image candidates; it runs inside the ANN search. Zero fields do not restrict.
type Filter struct {
	From, To time.Time // capture time in [From, To); images without one fail a set bound
	Folder   string    // path prefix, e.g. "/photos/2023/"
}

func (f Filter) store() *store.ImageFilter {
	if f.From.IsZero() && f.To.IsZero() && f.Folder == "" {
		return nil
	}
	return &store.ImageFilter{From: f.From, To: f.To, PathPrefix: f.Folder}
}

func (f Filter) validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return fmt.Errorf("%w: date range from %s to %s is empty", ErrInput,
			f.From.Format(time.DateOnly), f.To.Format(time.DateOnly))
	}
	return nil
}

// ImageQuery is a text -> image query.
type ImageQuery struct {
	Text string
	Params
	Filter Filter
}

// Images finds the indexed images that match a text: ANN top-Depth by ITC, ITM rerank of the top
// K, threshold, page. A blank text is an ErrInput error; a long one is cut by the tokenizer.
func (s *Searcher) Images(ctx context.Context, q ImageQuery) (*ImageResult, error) {
	p, err := s.params(q.Params)
	if err != nil {
		return nil, err
	}
	if err := q.Filter.validate(); err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(q.Text) == "":
		return nil, fmt.Errorf("%w: the query text is empty", ErrInput)
	case len(q.Text) > MaxQueryBytes:
		return nil, fmt.Errorf("%w: the query is %d bytes, over %d", ErrInput, len(q.Text), MaxQueryBytes)
	}
	clk := newClock(s.o.Now)
	res := &ImageResult{Query: q.Text, Hits: []ImageHit{}}
	ns, err := s.namespace()
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
	var t Timings
	ids, mask := tokenizer.EncodeBatch(s.m.Text.Tokenizer(), []string{q.Text})
	t.Tokenize = clk.lap()
	enc, err := s.m.Text.EncodeIDs(ctx, ids, mask, encoder.TextOptions{States: p.rerank})
	if err != nil {
		return nil, fmt.Errorf("searcher: encode query: %w", err)
	}
	t.TextEncode = clk.lap()
	var text rerank.Text
	if p.rerank {
		text = rerank.Text{States: enc.States[0], Mask: enc.Masks[0]}
	}
	res.Page, res.Hits, err = s.rankImages(ctx, p, enc.Embeds[0], q.Filter, 0, &text, clk, &t)
	if err != nil {
		return nil, err
	}
	t.Total = clk.total()
	res.Timings = t.round()
	return res, nil
}

// rankImages is the shared tail of Images and Similar: ANN, fetch, optional rerank against
// text, order and page. exclude (when not 0) is an image id left out (the query image).
func (s *Searcher) rankImages(ctx context.Context, p params, vec []float32, f Filter, exclude uint64,
	text *rerank.Text, clk *clock, t *Timings) (Page, []ImageHit, error) {
	ns, _ := s.namespace()
	depth := p.depth
	if exclude != 0 {
		depth++
	}
	hits, err := ns.SearchImagesContext(ctx, vec, depth, s.o.Ef, f.store())
	if err != nil {
		return Page{}, nil, fmt.Errorf("searcher: %w", err)
	}
	if exclude != 0 {
		hits = dropImage(hits, exclude, p.depth)
	}
	t.ANN = clk.lap()
	if len(hits) == 0 { // the index is not empty (Images and Similar answered that before)
		pg := p.page(0, 0, 0)
		switch {
		case f.store() != nil:
			pg.Reason = ReasonFiltered
		case exclude != 0:
			pg.Reason = ReasonNoOthers
		default:
			pg.Reason = ReasonNoImages
		}
		return pg, []ImageHit{}, nil
	}
	// records of the candidates to rerank; the others' records are read for the page only
	nr := 0
	if p.rerank {
		nr = min(p.k, len(hits))
	}
	hits, recs, err := s.records(hits, nr)
	if err != nil {
		return Page{}, nil, err
	}
	nr = min(nr, len(hits)) // fewer when deletions left fewer hits
	var warns []string
	cs := make([]cand, len(hits))
	for i, h := range hits {
		cs[i] = cand{i: i, itc: h.Score}
	}
	if nr > 0 {
		refs := make([]rerank.ImageRef, nr)
		for i := range nr {
			refs[i] = s.ref(recs[i])
		}
		var st rerank.Stats
		toks, errs, release := s.tokens(ctx, refs, &st)
		defer release() // on return: after the rerank, the tokens' only reader
		if err := ctx.Err(); err != nil {
			return Page{}, nil, err
		}
		t.Fetch = clk.lap() - ms(st.Encode)
		t.TokenEncode = ms(st.Encode)
		var ok []int
		var good [][]float32
		for i := range nr {
			if errs != nil && errs[i] != nil {
				warns = append(warns, s.unavailable(recs[i], errs[i]))
				continue
			}
			ok = append(ok, i)
			good = append(good, toks[i])
		}
		scores, err := s.rr.Images(ctx, *text, good)
		if err != nil {
			return Page{}, nil, fmt.Errorf("searcher: rerank: %w", err)
		}
		for j, i := range ok {
			cs[i] = rerankedCand(cs[i], scores[j])
		}
		t.Rerank = clk.lap()
		nr = len(ok)
	}
	list, best := p.order(cs)
	pg := p.page(len(hits), nr, len(list))
	pg.Warnings = warns
	lo, hi := p.window(len(list))
	if err := s.pageRecords(hits, recs, list[lo:hi]); err != nil {
		return Page{}, nil, err
	}
	out := make([]ImageHit, 0, hi-lo)
	for _, c := range list[lo:hi] {
		r := recs[c.i]
		if r == nil { // deleted since the search
			continue
		}
		h := ImageHit{ImageID: r.ID, Path: r.Path, Width: r.Width, Height: r.Height, Score: p.score(c), ITC: float64(c.itc)}
		if !r.Captured.IsZero() {
			tc := r.Captured
			h.Captured = &tc
		}
		if c.reranked {
			h.PMatch, h.ITMLogit = Float(float64(c.p)), Float(float64(c.logit))
		}
		out = append(out, h)
	}
	t.Fetch += clk.lap()
	if len(out) == 0 {
		p.explainEmpty(&pg, len(list), best)
	}
	return pg, out, nil
}

func dropImage(hits []store.ImageHit, id uint64, k int) []store.ImageHit {
	out := hits[:0]
	for _, h := range hits {
		if h.ImageID != id {
			out = append(out, h)
		}
	}
	return out[:min(len(out), k)]
}

// record reads an image record; a candidate deleted since the search is a store error.
func (s *Searcher) record(id uint64) (*store.ImageRecord, error) {
	r, err := s.db.Image(id)
	if err != nil {
		return nil, fmt.Errorf("searcher: %w", err) // the store's error names the image
	}
	return &r, nil
}

// unavailable logs and describes a candidate whose tokens could not be had.
func (s *Searcher) unavailable(r *store.ImageRecord, err error) string {
	s.log.Warn("candidate not reranked", "photo_id", r.ID, "path", r.Path, "error", err.Error())
	if errors.Is(err, rerank.ErrUnavailable) {
		return fmt.Sprintf("image %d (%s) was not reranked: its file is missing, moved or unreadable", r.ID, r.Path)
	}
	return fmt.Sprintf("image %d (%s) was not reranked: %v", r.ID, r.Path, err)
}

// ref names a stored image for the token source.
func (s *Searcher) ref(r *store.ImageRecord) rerank.ImageRef {
	ref := rerank.ImageRef{ContentID: r.ContentID, Copy: library.CopyPath(s.o.CopyDir, r.ContentID), Path: r.Path}
	if s.o.Thumb != nil {
		ref.Fallback = s.o.Thumb(r.SHA256)
	}
	return ref
}
