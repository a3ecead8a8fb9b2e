package searcher

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// records reads the records of the first n hits in one store transaction, dropping the
// candidates deleted since the search: their places go to the hits after them, whose records are
// read in turn. It returns the remaining hits and, per hit, its record: set for the first
// min(n, len(hits)), nil after.
func (s *Searcher) records(hits []store.ImageHit, n int) ([]store.ImageHit, []*store.ImageRecord, error) {
	recs := make([]store.ImageRecord, 0, min(n, len(hits))) // of hits[:len(recs)]
	for len(recs) < min(n, len(hits)) {
		from, to := len(recs), min(n, len(hits))
		ids := make([]uint64, to-from)
		for i, h := range hits[from:to] {
			ids[i] = h.ImageID
		}
		got, errs := s.db.ImagesByID(ids)
		kept := hits[:from] // compacted in place: kept never passes hits[from+i]
		for i := range ids {
			if errs != nil && errs[i] != nil {
				if errors.Is(errs[i], store.ErrNotFound) { // deleted since the search: drop it
					continue
				}
				return nil, nil, fmt.Errorf("searcher: %w", errs[i]) // the store's error names the image
			}
			kept = append(kept, hits[from+i])
			recs = append(recs, got[i])
		}
		hits = append(kept, hits[to:]...)
	}
	out := make([]*store.ImageRecord, len(hits))
	for i := range recs {
		out[i] = &recs[i]
	}
	return hits, out, nil
}

// pageRecords reads the records that a page's candidates lack (those not reranked) in one store
// transaction into recs; a candidate deleted since the search keeps a nil record.
func (s *Searcher) pageRecords(hits []store.ImageHit, recs []*store.ImageRecord, page []cand) error {
	var ids []uint64
	for _, c := range page {
		if recs[c.i] == nil {
			ids = append(ids, hits[c.i].ImageID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	got, errs := s.db.ImagesByID(ids)
	j := 0
	for _, c := range page {
		if recs[c.i] != nil {
			continue
		}
		switch {
		case errs == nil || errs[j] == nil:
			recs[c.i] = &got[j]
		case !errors.Is(errs[j], store.ErrNotFound): // a missing one was deleted since the search
			return fmt.Errorf("searcher: %w", errs[j]) // the store's error names the image
		}
		j++
	}
	return nil
}

// tokenSlab is a token source that decodes into a caller's buffer ([rerank.TokenCache]).
type tokenSlab interface {
	TokenLen() int
	TokensInto(ctx context.Context, refs []rerank.ImageRef, buf []float32, st *rerank.Stats) ([][]float32, []error)
}

var _ tokenSlab = (*rerank.TokenCache)(nil)

// slabs are token buffers reused across queries: K x N x C floats (4.3 MB at K = 128 with
// tiny-scenes) that a query would otherwise allocate and zero, and that would bring the GC
// round, and its assists into the query, more often. They are kept in a free list, not a
// sync.Pool: a pool is emptied by every other GC cycle, and the query after it then pays for a
// new slab's page faults and zeroing, and brings the next cycle sooner. At most maxFreeSlabs are kept
// (as many as queries run at once on a small machine); a larger one replaces a smaller.
type slabs struct {
	mu   sync.Mutex
	free []*[]float32
}

const maxFreeSlabs = 4

// get returns a buffer of n floats (its contents are stale: the caller overwrites them).
func (p *slabs) get(n int) *[]float32 {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if b := p.free[i]; cap(*b) >= n {
			p.free = append(p.free[:i], p.free[i+1:]...)
			p.mu.Unlock()
			*b = (*b)[:n]
			return b
		}
	}
	p.mu.Unlock()
	s := make([]float32, n)
	return &s
}

// put hands a buffer back; past maxFreeSlabs the smallest buffer is let go.
func (p *slabs) put(b *[]float32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, b)
	if len(p.free) > maxFreeSlabs {
		small := 0
		for i, f := range p.free {
			if cap(*f) < cap(*p.free[small]) {
				small = i
			}
		}
		p.free = append(p.free[:small], p.free[small+1:]...)
	}
}

// tokens fetches the candidates' image tokens from the token source. A token cache decodes them
// into a reused buffer, which release hands back: the tokens must not be used after it.
func (s *Searcher) tokens(ctx context.Context, refs []rerank.ImageRef, st *rerank.Stats) (
	toks [][]float32, errs []error, release func()) {
	src, ok := s.src.(tokenSlab)
	if !ok {
		toks, errs = s.src.Tokens(ctx, refs, st)
		return toks, errs, func() {}
	}
	buf := s.slabs.get(len(refs) * src.TokenLen())
	toks, errs = src.TokensInto(ctx, refs, *buf, st)
	return toks, errs, func() { s.slabs.put(buf) }
}
