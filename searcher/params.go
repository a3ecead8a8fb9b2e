package searcher

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/glimpse-search/glimpse/rerank"
)

// MaxDepth caps Params.Depth.
const MaxDepth = 10_000

// Params are the paging and ranking parameters every query shares. Zero fields take the
// searcher's Options.
type Params struct {
	// K is the rerank depth, 1..MaxK: the ITM head scores the top K candidates of the ANN stage.
	K int
	// Depth is the number of ANN candidates, K..MaxDepth (default K). Candidates past the top K
	// are not reranked: they follow the reranked ones in ITC order, and only when no threshold
	// applies (MinScore 0), as in the Flickr evaluation protocol.
	Depth int
	// Limit (1..MaxLimit) and Offset (>= 0) select the page of the ranked list.
	Limit, Offset int
	// MinScore is the minimum ITM match probability of a reranked result. 0 keeps every
	// candidate; above 1 none.
	MinScore *float64
	// Rank orders the reranked candidates.
	Rank Rank
	// NoRerank ranks by ITC alone (no threshold applies: cosine scores have no usable cut-off).
	NoRerank bool
}

// params are validated Params with the defaults filled in.
type params struct {
	k, depth, limit, offset int
	min                     float64
	rank                    Rank
	rerank                  bool
	noITM                   bool // a rerank was asked for, but the model has no ITM head
}

func (s *Searcher) params(p Params) (params, error) {
	r := params{k: p.K, depth: p.Depth, limit: p.Limit, offset: p.Offset, rank: p.Rank, rerank: !p.NoRerank && s.rr != nil,
		noITM: !p.NoRerank && s.rr == nil}
	if r.k == 0 {
		r.k = s.o.K
	}
	if r.limit == 0 {
		r.limit = s.o.Limit
	}
	if r.rank == "" {
		r.rank = s.o.Rank
	}
	r.min = *s.o.MinScore
	if p.MinScore != nil {
		r.min = *p.MinScore
	}
	switch {
	case r.k < 1 || r.k > MaxK:
		return r, fmt.Errorf("%w: k %d is outside 1..%d", ErrInput, r.k, MaxK)
	case r.limit < 1 || r.limit > MaxLimit:
		return r, fmt.Errorf("%w: limit %d is outside 1..%d", ErrInput, r.limit, MaxLimit)
	case r.offset < 0:
		return r, fmt.Errorf("%w: offset %d is negative", ErrInput, r.offset)
	case r.depth < 0 || r.depth > MaxDepth:
		return r, fmt.Errorf("%w: depth %d is outside 0..%d", ErrInput, r.depth, MaxDepth)
	case math.IsNaN(r.min) || math.IsInf(r.min, 0):
		return r, fmt.Errorf("%w: min score %v", ErrInput, r.min)
	}
	if _, err := ParseRank(string(r.rank)); err != nil {
		return r, err
	}
	r.depth = max(r.depth, r.k)
	if !r.rerank {
		r.min = 0
	}
	r.min = max(r.min, 0)
	return r, nil
}

// page fills the shared result fields.
func (p params) page(c, reranked, total int) Page {
	pg := Page{Offset: p.offset, Limit: p.limit, Total: total, Candidates: c, Reranked: reranked, K: p.k}
	if p.rerank {
		pg.Rank = p.rank
		pg.MinScore = Float(p.min)
	}
	if p.noITM {
		pg.Note = NoteNoITM
	}
	return pg
}

// cand is one ANN candidate on its way to a ranked list.
type cand struct {
	i        int // index in ANN order
	itc      float32
	p        float32 // ITM match probability, when reranked
	logit    float32 // ITM match logit itm_logits[1], when reranked
	reranked bool
}

// rerankedCand is c scored by the ITM head.
func rerankedCand(c cand, s rerank.Score) cand {
	c.p, c.logit, c.reranked = s.PMatch, s.MatchLogit(), true
	return c
}

// score is what orders c: its rank formula once reranked, else its ITC similarity.
func (p params) score(c cand) float64 {
	switch {
	case !c.reranked:
		return float64(c.itc)
	case p.rank == RankITMITC:
		return float64(c.p) + float64(c.itc)
	case p.rank == RankITMLogit:
		return float64(c.logit)
	case p.rank == RankITMLogitITC:
		return float64(c.logit) + float64(c.itc)
	}
	return float64(c.p)
}

// order ranks candidates (in ANN order): reranked ones past the threshold by score, then, without
// a threshold, the others in ANN (ITC) order. It also returns the best match probability.
func (p params) order(cs []cand) (list []cand, best float64) {
	best = math.NaN()
	var tail []cand
	for _, c := range cs {
		if !c.reranked {
			tail = append(tail, c)
			continue
		}
		if math.IsNaN(best) || float64(c.p) > best {
			best = float64(c.p)
		}
		if float64(c.p) >= p.min {
			list = append(list, c)
		}
	}
	slices.SortStableFunc(list, func(a, b cand) int {
		return cmp.Or(cmp.Compare(p.score(b), p.score(a)), cmp.Compare(b.itc, a.itc))
	})
	if p.min <= 0 {
		list = append(list, tail...)
	}
	return list, best
}

// window is the page [offset, offset+limit) of n items.
func (p params) window(n int) (lo, hi int) {
	lo = min(p.offset, n)
	return lo, min(lo+p.limit, n)
}

// explainEmpty fills the Reason of an empty page of a ranked list of total results, and sets
// NoConfidentMatch when the list is empty because no reranked candidate (best is the highest
// match probability, NaN when none was reranked) reached the minimum score.
func (p params) explainEmpty(pg *Page, total int, best float64) {
	switch {
	case total > 0:
		pg.Reason = fmt.Sprintf("%s (offset %d, %d results)", ReasonPastEnd, p.offset, total)
	case math.IsNaN(best):
		pg.Reason = ReasonNotReranked
	default:
		pg.Reason = fmt.Sprintf("%s: the best match probability is %.3f, below the minimum %.3g", ReasonNoConfident, best, p.min)
		pg.NoConfidentMatch = true
	}
}

// clock measures stages.
type clock struct {
	now  func() time.Time
	t0   time.Time
	last time.Time
}

func newClock(now func() time.Time) *clock {
	t := now()
	return &clock{now: now, t0: t, last: t}
}

// lap returns the milliseconds since the previous lap.
func (c *clock) lap() float64 {
	t := c.now()
	d := t.Sub(c.last)
	c.last = t
	return ms(d)
}

func (c *clock) total() float64 { return ms(c.now().Sub(c.t0)) }
