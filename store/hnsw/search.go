package hnsw

import (
	"fmt"
	"math"
	"slices"
)

// Result is one search hit: the id and its inner product with the
// (normalised) query. Higher is closer.
type Result struct {
	ID    uint64
	Score float32
}

// searcher is per-search scratch: a generation-stamped visited array and
// the two heaps. Pooled per Index.
type searcher struct {
	mark   []uint16
	epoch  uint16
	cand   minHeap
	res    maxHeap
	cands  []item
	shrink []item
	batch  []item
	sel    []uint32
	sel2   []uint32
	q      []float32
	qc     queryCodes
	// touched sinks the loads of touch so the compiler keeps them
	touched uint64
}

func newSearcher(dim int) *searcher {
	return &searcher{q: make([]float32, dim)}
}

// reset starts a new visited generation for an index of n slots.
func (w *searcher) reset(n int) {
	if len(w.mark) < n {
		w.mark = make([]uint16, n+n/4+64)
		w.epoch = 0
	}
	w.epoch++
	if w.epoch == 0 { // wrapped: clear once every 65535 searches
		clear(w.mark)
		w.epoch = 1
	}
}

// visit marks s and reports whether it was already visited.
func (w *searcher) visit(s uint32) bool {
	if w.mark[s] == w.epoch {
		return true
	}
	w.mark[s] = w.epoch
	return false
}

// dist is the traversal distance: the negated inner product, estimated
// from the int8 codes when qc is non-nil.
func (x *Index) dist(q []float32, qc *queryCodes, s uint32) float32 {
	if qc != nil {
		return -(qc.bias + qc.lo*float32(x.csum[s]) + qc.step*float32(dotCodes(qc, x.codeRow(s))))
	}
	return -dot(q, x.vec(s))
}

// touch reads a few words of each batch item's vector (its codes when
// codes is set) so the loads of all of them are in flight before the
// first distance waits for its own.
func (x *Index) touch(w *searcher, codes bool) {
	if codes {
		var t uint64
		for _, it := range w.batch {
			row := x.codeRow(it.s)
			for j := 0; j < len(row); j += touchStride / 16 {
				t += row[j][0]
			}
			t += uint64(x.csum[it.s]) // 4 MB at 1M vectors: not always in cache either
		}
		w.touched += t
		return
	}
	var t float32
	for _, it := range w.batch {
		row := x.vec(it.s)
		for j := 0; j < len(row); j += touchStride / 4 * touchF32 {
			t += row[j]
		}
	}
	w.touched += uint64(math.Float32bits(t))
}

// score sets the distance of every item of batch.
func (x *Index) score(batch []item, q []float32, qc *queryCodes) {
	if qc == nil {
		for i := range batch {
			batch[i].d = -dot(q, x.vec(batch[i].s))
		}
		return
	}
	for i := range batch {
		s := batch[i].s
		batch[i].d = -(qc.bias + qc.lo*float32(x.csum[s]) + qc.step*float32(dotCodes(qc, x.codeRow(s))))
	}
}

// greedy walks layer l from ep to a local minimum (ef = 1).
func (x *Index) greedyQ(q []float32, qc *queryCodes, ep item, l int) item {
	for changed := true; changed; {
		changed = false
		for _, n := range x.links(ep.s, l) {
			if d := x.dist(q, qc, n); d < ep.d {
				ep, changed = item{d: d, s: n}, true
			}
		}
	}
	return ep
}

func (x *Index) greedy(q []float32, ep item, l int) item { return x.greedyQ(q, nil, ep, l) }

// searchLayer is the paper's Algorithm 2 on layer l. Nodes that are deleted
// (when skipDead) or fail filter are traversed but not put in the result
// set. The returned slice is w.res (a max-heap, unsorted).
func (x *Index) searchLayer(w *searcher, q []float32, qc *queryCodes, ep item, ef, l int,
	filter func(uint64) bool, skipDead bool) []item {
	w.visit(ep.s)
	w.cand = w.cand[:0]
	w.res = w.res[:0]
	w.cand.push(ep)
	if x.accept(ep.s, filter, skipDead) {
		w.res.push(ep)
	}
	for len(w.cand) > 0 {
		c := w.cand.pop()
		if len(w.res) >= ef && c.d > w.res[0].d {
			break
		}
		// gather the unvisited neighbours first, touch their vectors so
		// that their cache misses overlap (Go has no prefetch), then
		// score them in a tight loop
		w.batch = w.batch[:0]
		for _, n := range x.links(c.s, l) {
			if !w.visit(n) {
				w.batch = append(w.batch, item{s: n})
			}
		}
		x.touch(w, qc != nil)
		x.score(w.batch, q, qc)
		for _, it := range w.batch {
			n, d := it.s, it.d
			if len(w.res) < ef || d < w.res[0].d {
				w.cand.push(item{d: d, s: n})
				if x.accept(n, filter, skipDead) {
					w.res.push(item{d: d, s: n})
					if len(w.res) > ef {
						w.res.pop()
					}
				}
			}
		}
	}
	return w.res
}

func (x *Index) accept(s uint32, filter func(uint64) bool, skipDead bool) bool {
	if skipDead && x.dead[s] {
		return false
	}
	return filter == nil || filter(x.ids[s])
}

// Search returns up to k ids closest to q by inner product, best first.
// ef (<= 0: Options.EfSearch) is the candidate-list size; larger is slower
// and more accurate. filter, when non-nil, restricts the results; it is
// evaluated during traversal, so it must be cheap and safe for concurrent
// calls. When the filter is estimated (by sampling) to pass fewer than
// Options.ExactBelow ids, or the index is that small, Search scans exactly.
func (x *Index) Search(q []float32, k, ef int, filter func(id uint64) bool) ([]Result, error) {
	if len(q) != x.dim {
		return nil, fmt.Errorf("search: got %d, want %d: %w", len(q), x.dim, ErrDimension)
	}
	if k <= 0 {
		return nil, nil
	}
	if ef <= 0 {
		ef = x.o.EfSearch
	}
	ef = max(ef, k)
	w := x.pool.Get().(*searcher)
	defer x.pool.Put(w)
	if err := normalize(w.q, q); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live == 0 {
		return nil, nil
	}
	if x.live <= x.o.ExactBelow {
		return x.exact(w, k, filter), nil
	}
	if filter != nil {
		frac := x.passFraction(filter)
		if frac*float64(x.live) < float64(x.o.ExactBelow) {
			return x.exact(w, k, filter), nil
		}
		if frac < 1 {
			ef = min(int(float64(ef)/frac), 16*ef)
		}
	}
	var qc *queryCodes
	if x.quant != nil {
		x.quant.prepare(&w.qc, w.q)
		qc = &w.qc
	}
	w.reset(len(x.ids))
	ep := item{d: x.dist(w.q, qc, x.entry), s: x.entry}
	for l := x.maxLevel; l > 0; l-- {
		ep = x.greedyQ(w.q, qc, ep, l)
	}
	res := x.searchLayer(w, w.q, qc, ep, ef, 0, filter, true)
	if qc != nil { // exact re-scoring of the final candidates
		for i := range res {
			res[i].d = -dot(w.q, x.vec(res[i].s))
		}
	}
	slices.SortFunc(res, cmpItem)
	return x.results(res, k), nil
}

// SearchExact scans every live vector: the exact top k by inner product.
func (x *Index) SearchExact(q []float32, k int, filter func(id uint64) bool) ([]Result, error) {
	if len(q) != x.dim {
		return nil, fmt.Errorf("search exact: got %d, want %d: %w", len(q), x.dim, ErrDimension)
	}
	if k <= 0 {
		return nil, nil
	}
	w := x.pool.Get().(*searcher)
	defer x.pool.Put(w)
	if err := normalize(w.q, q); err != nil {
		return nil, fmt.Errorf("search exact: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.exact(w, k, filter), nil
}

func (x *Index) exact(w *searcher, k int, filter func(uint64) bool) []Result {
	w.res = w.res[:0]
	for s := range x.ids {
		if x.dead[s] || (filter != nil && !filter(x.ids[s])) {
			continue
		}
		d := -dot(w.q, x.vec(uint32(s)))
		if len(w.res) < k {
			w.res.push(item{d: d, s: uint32(s)})
		} else if d < w.res[0].d {
			w.res[0] = item{d: d, s: uint32(s)}
			siftDownMax(w.res)
		}
	}
	slices.SortFunc(w.res, cmpItem)
	return x.results(w.res, k)
}

func (x *Index) results(res []item, k int) []Result {
	out := make([]Result, 0, min(k, len(res)))
	for _, r := range res[:min(k, len(res))] {
		out = append(out, Result{ID: x.ids[r.s], Score: -r.d})
	}
	return out
}

// passFraction estimates the share of live ids passing filter from up to
// 256 evenly spaced slots.
func (x *Index) passFraction(filter func(uint64) bool) float64 {
	n := len(x.ids)
	step := max(1, n/256)
	seen, pass := 0, 0
	for s := step / 2; s < n; s += step {
		if x.dead[s] {
			continue
		}
		seen++
		if filter(x.ids[s]) {
			pass++
		}
	}
	if seen == 0 {
		return 1
	}
	return math.Max(float64(pass)/float64(seen), 0)
}

// touch strides: one load per 64-byte cache line of the codes, and of
// every touchF32-th line of a float vector (the hardware prefetcher
// fetches the lines in between; touching every line measured slower).
const touchStride, touchF32 = 64, 4
