package searcher

import (
	"context"
	"fmt"
)

// CaptionQuery is an image -> text query over the indexed texts.
type CaptionQuery struct {
	ImageInput
	Params
}

// Captions finds the indexed texts that describe an image: ANN top-Depth by ITC over the text
// index, ITM rerank of the top K (the image's tokens computed once for all K pairs, the
// candidates' text states by the text encoder), threshold, page. The threshold is the same as
// for images: texts whose match probability is under MinScore (default Options.MinScore, the
// bundle's match threshold, 0.5) are left out, and when none reaches it the page is empty with
// NoConfidentMatch set; MinScore 0 (or NoRerank) turns it off and keeps every candidate.
func (s *Searcher) Captions(ctx context.Context, q CaptionQuery) (*TextResult, error) {
	p, err := s.params(q.Params)
	if err != nil {
		return nil, err
	}
	if q.Image == nil && q.ImageID == 0 {
		return nil, fmt.Errorf("%w: no query image or image id", ErrInput)
	}
	clk := newClock(s.o.Now)
	res := &TextResult{Hits: []TextHit{}}
	ns, err := s.namespace()
	if err != nil {
		return nil, err
	}
	var t Timings
	vec, tokens, err := s.queryImage(ctx, ns, q.ImageInput, p.rerank, clk, &t)
	if err != nil {
		return nil, err
	}
	if ns == nil || ns.TextLen() == 0 {
		res.Page = p.page(0, 0, 0)
		res.Reason = ReasonNoTexts
		res.Timings = t.round()
		res.Timings.Total = clk.total()
		return res, nil
	}
	hits, err := ns.SearchTexts(vec, p.depth, s.o.Ef)
	if err != nil {
		return nil, fmt.Errorf("searcher: %w", err)
	}
	t.ANN = clk.lap()
	ids := make([]uint64, len(hits))
	for i, h := range hits {
		ids[i] = h.TextID
	}
	recs, errs := s.db.TextsByID(ids) // one transaction for all
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("searcher: %w", err) // the store's error names the text
		}
	}
	t.Fetch += clk.lap()
	cs := make([]cand, len(hits))
	for i, h := range hits {
		cs[i] = cand{i: i, itc: h.Score}
	}
	nr := 0
	if p.rerank {
		nr = min(p.k, len(hits))
		texts := make([]string, nr)
		for i := range nr {
			texts[i] = recs[i].Text
		}
		states, _, err := s.rr.EncodeTexts(ctx, texts)
		if err != nil {
			return nil, fmt.Errorf("searcher: %w", err)
		}
		t.TextEncode = clk.lap()
		scores, err := s.rr.TextStates(ctx, tokens, states)
		if err != nil {
			return nil, fmt.Errorf("searcher: rerank: %w", err)
		}
		for i := range nr {
			cs[i] = rerankedCand(cs[i], scores[i])
		}
		t.Rerank = clk.lap()
	}
	list, best := p.order(cs)
	res.Page = p.page(len(hits), nr, len(list))
	lo, hi := p.window(len(list))
	for _, c := range list[lo:hi] {
		r := recs[c.i]
		h := TextHit{TextID: r.ID, Text: r.Text, Source: r.Source, Score: p.score(c), ITC: float64(c.itc)}
		if c.reranked {
			h.PMatch, h.ITMLogit = Float(float64(c.p)), Float(float64(c.logit))
		}
		res.Hits = append(res.Hits, h)
	}
	if len(res.Hits) == 0 {
		p.explainEmpty(&res.Page, len(list), best)
	}
	t.Total = clk.total()
	res.Timings = t.round()
	return res, nil
}
