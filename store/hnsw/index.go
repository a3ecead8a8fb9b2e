package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// Index is an HNSW graph over unit-norm float32 vectors keyed by uint64 ids.
//
// It is safe for concurrent use: any number of Search calls run in parallel
// (read lock); Add, Delete, Compact and the load methods take the write lock.
// Dirty and MarshalNode take the read lock.
type Index struct {
	mu  sync.RWMutex
	dim int
	o   Options
	m0  int // layer-0 capacity, 2*M
	mL  float64
	rng *rand.Rand

	ids    []uint64  // slot -> id
	vecs   []float32 // slot*dim, normalised
	levels []uint8
	dead   []bool
	l0     []uint32   // stride m0+1: count, then neighbour slots
	upper  [][]uint32 // per slot: level blocks of stride M+1 for layers 1..level
	slotOf map[uint64]uint32
	live   int

	entry    uint32
	maxLevel int // -1 when the graph is empty

	quant *quantizer  // nil until trained (QuantizeInt8 only)
	codes []codeGroup // slot*groups(dim), when quant != nil
	csum  []uint32    // per slot, the sum of its codes

	dirtyMark []bool
	dirty     []uint32

	pool sync.Pool // *searcher
	w    *searcher // the writer's scratch, used under the write lock
}

// New returns an empty index for vectors of the given dimension.
func New(dim int, o Options) *Index {
	o = o.withDefaults()
	x := &Index{
		dim:      dim,
		o:        o,
		m0:       2 * o.M,
		mL:       o.mL(),
		rng:      rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15)),
		slotOf:   make(map[uint64]uint32),
		maxLevel: -1,
	}
	x.pool.New = func() any { return newSearcher(dim) }
	x.w = newSearcher(dim)
	return x
}

// Dim returns the vector dimension.
func (x *Index) Dim() int { return x.dim }

// Options returns the options in effect (defaults filled in).
func (x *Index) Options() Options { return x.o }

// Len returns the number of live (not deleted) vectors.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Slots returns the number of node slots, deleted tombstones included.
func (x *Index) Slots() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids)
}

// Contains reports whether id is live in the index.
func (x *Index) Contains(id uint64) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.slotOf[id]
	return ok
}

// Vector returns a copy of the stored (normalised) vector of id.
func (x *Index) Vector(id uint64) ([]float32, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.slotOf[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(x.vec(s)), true
}

// IDs returns the live ids in slot order.
func (x *Index) IDs() []uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]uint64, 0, x.live)
	for s, id := range x.ids {
		if !x.dead[s] {
			out = append(out, id)
		}
	}
	return out
}

func (x *Index) vec(s uint32) []float32 {
	i := int(s) * x.dim
	return x.vecs[i : i+x.dim : i+x.dim]
}

// codeRow returns the int8 codes of slot s (quantised indexes).
func (x *Index) codeRow(s uint32) []codeGroup {
	g := groups(x.dim)
	i := int(s) * g
	return x.codes[i : i+g : i+g]
}

func (x *Index) sim(a, b uint32) float32 { return dot(x.vec(a), x.vec(b)) }

// links returns the neighbour slots of s on layer l (a view, not a copy).
func (x *Index) links(s uint32, l int) []uint32 {
	b := x.block(s, l)
	return b[1 : 1+b[0]]
}

func (x *Index) block(s uint32, l int) []uint32 {
	if l == 0 {
		i := int(s) * (x.m0 + 1)
		return x.l0[i : i+x.m0+1]
	}
	st := x.o.M + 1
	return x.upper[s][(l-1)*st : l*st]
}

func (x *Index) setLinks(s uint32, l int, nb []uint32) {
	b := x.block(s, l)
	b[0] = uint32(len(nb))
	copy(b[1:], nb)
	x.markDirty(s)
}

func (x *Index) maxDegree(l int) int {
	if l == 0 {
		return x.m0
	}
	return x.o.M
}

func (x *Index) markDirty(s uint32) {
	if !x.dirtyMark[s] {
		x.dirtyMark[s] = true
		x.dirty = append(x.dirty, s)
	}
}

func (x *Index) randomLevel() int {
	l := int(math.Floor(-math.Log(1-x.rng.Float64()) * x.mL))
	return min(l, maxLevels-1)
}

// Add inserts vec under id, copying and normalising it. Re-adding an
// existing id replaces its vector: the old node becomes a tombstone and a new
// node is inserted.
func (x *Index) Add(id uint64, vec []float32) error {
	if len(vec) != x.dim {
		return fmt.Errorf("add %d: got %d, want %d: %w", id, len(vec), x.dim, ErrDimension)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.slotOf[id]; ok {
		x.deleteSlot(old)
	}
	s := uint32(len(x.ids))
	x.ids = append(x.ids, id)
	x.vecs = slices.Grow(x.vecs, x.dim)[:len(x.vecs)+x.dim]
	if err := normalize(x.vec(s), vec); err != nil {
		x.ids = x.ids[:s]
		x.vecs = x.vecs[:int(s)*x.dim]
		return fmt.Errorf("add %d: %w", id, err)
	}
	level := x.randomLevel()
	x.appendSlot(level)
	x.slotOf[id] = s
	x.live++
	x.markDirty(s)
	x.insert(s, level)
	x.maybeQuantize(s)
	return nil
}

// appendSlot grows every per-slot array by one node of the given level.
func (x *Index) appendSlot(level int) {
	x.levels = append(x.levels, uint8(level))
	x.dead = append(x.dead, false)
	x.dirtyMark = append(x.dirtyMark, false)
	x.l0 = append(x.l0, make([]uint32, x.m0+1)...)
	var up []uint32
	if level > 0 {
		up = make([]uint32, level*(x.o.M+1))
	}
	x.upper = append(x.upper, up)
}

func (x *Index) maybeQuantize(s uint32) {
	if x.o.Quantize != QuantizeInt8 {
		return
	}
	if x.quant == nil {
		if len(x.ids) >= x.o.QuantizeTrain {
			x.trainQuant()
		}
		return
	}
	g := groups(x.dim)
	x.codes = slices.Grow(x.codes, g)[:len(x.codes)+g]
	x.csum = append(x.csum, x.quant.encode(x.codeRow(s), x.vec(s)))
}

// trainQuant learns the quantiser from the first QuantizeTrain slots and
// encodes every slot. It is a function of the slot contents only, so a
// reloaded index reproduces the same codes.
func (x *Index) trainQuant() {
	n := min(len(x.ids), x.o.QuantizeTrain)
	x.quant = trainQuantizer(x.vecs[:n*x.dim], x.dim)
	x.codes = make([]codeGroup, len(x.ids)*groups(x.dim))
	x.csum = make([]uint32, len(x.ids))
	for s := range x.csum {
		x.csum[s] = x.quant.encode(x.codeRow(uint32(s)), x.vec(uint32(s)))
	}
}

// insert links slot s (already holding its vector) into the graph
// (Algorithm 1 of the paper).
func (x *Index) insert(s uint32, level int) {
	if x.maxLevel < 0 {
		x.entry, x.maxLevel = s, level
		return
	}
	w := x.w
	w.reset(len(x.ids))
	q := x.vec(s)
	ep := item{d: -dot(q, x.vec(x.entry)), s: x.entry}
	for l := x.maxLevel; l > level; l-- {
		ep = x.greedy(q, ep, l)
	}
	for l := min(level, x.maxLevel); l >= 0; l-- {
		w.reset(len(x.ids))
		res := x.searchLayer(w, q, nil, ep, x.o.EfConstruction, l, nil, true)
		if len(res) == 0 { // everything near is a tombstone: link to them anyway
			w.reset(len(x.ids))
			res = x.searchLayer(w, q, nil, ep, x.o.EfConstruction, l, nil, false)
		}
		w.cands = append(w.cands[:0], res...)
		slices.SortFunc(w.cands, cmpItem)
		ep = w.cands[0]
		nb := x.selectNeighbors(w.cands, x.o.M, w.sel[:0])
		w.sel = nb
		x.setLinks(s, l, nb)
		for _, e := range nb {
			x.connect(e, s, l)
		}
	}
	if level > x.maxLevel {
		x.entry, x.maxLevel = s, level
	}
}

// connect adds the edge e -> s on layer l, shrinking e's list with the
// heuristic when it overflows.
func (x *Index) connect(e, s uint32, l int) {
	cur := x.links(e, l)
	if slices.Contains(cur, s) {
		return
	}
	if len(cur) < x.maxDegree(l) {
		b := x.block(e, l)
		b[1+b[0]] = s
		b[0]++
		x.markDirty(e)
		return
	}
	w := x.w
	ev := x.vec(e)
	w.shrink = w.shrink[:0]
	for _, n := range cur {
		w.shrink = append(w.shrink, item{d: -dot(ev, x.vec(n)), s: n})
	}
	w.shrink = append(w.shrink, item{d: -dot(ev, x.vec(s)), s: s})
	slices.SortFunc(w.shrink, cmpItem)
	w.sel2 = x.selectNeighbors(w.shrink, x.maxDegree(l), w.sel2[:0])
	x.setLinks(e, l, w.sel2)
}

// selectNeighbors is the paper's heuristic (Algorithm 4, without extending
// or keeping pruned candidates): walking candidates closest first, keep c
// unless it is closer to an already kept neighbour than to the base.
// cands must be sorted by distance; tombstones are skipped.
func (x *Index) selectNeighbors(cands []item, m int, out []uint32) []uint32 {
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		if x.dead[c.s] {
			continue
		}
		cv := x.vec(c.s)
		keep := true
		for _, r := range out {
			if -dot(cv, x.vec(r)) < c.d {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c.s)
		}
	}
	return out
}

func cmpItem(a, b item) int {
	switch {
	case a.d < b.d:
		return -1
	case a.d > b.d:
		return 1
	}
	return int(a.s) - int(b.s)
}

// Delete removes id: its node becomes a tombstone that searches still walk
// through but never return, and its live neighbours that pointed back at it
// re-select their neighbours from their own list plus the deleted node's.
func (x *Index) Delete(id uint64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.slotOf[id]
	if !ok {
		return fmt.Errorf("delete %d: %w", id, ErrNotFound)
	}
	x.deleteSlot(s)
	return nil
}

func (x *Index) deleteSlot(s uint32) {
	x.dead[s] = true
	delete(x.slotOf, x.ids[s])
	x.live--
	x.markDirty(s)
	w := x.w
	for l := 0; l <= int(x.levels[s]); l++ {
		for _, n := range x.links(s, l) {
			if x.dead[n] || !slices.Contains(x.links(n, l), s) {
				continue
			}
			nv := x.vec(n)
			w.shrink = w.shrink[:0]
			for _, c := range x.links(n, l) {
				if c != s {
					w.shrink = append(w.shrink, item{d: -dot(nv, x.vec(c)), s: c})
				}
			}
			for _, c := range x.links(s, l) {
				if c != n && !x.dead[c] && !slices.Contains(x.links(n, l), c) {
					w.shrink = append(w.shrink, item{d: -dot(nv, x.vec(c)), s: c})
				}
			}
			slices.SortFunc(w.shrink, cmpItem)
			w.sel2 = x.selectNeighbors(w.shrink, x.maxDegree(l), w.sel2[:0])
			x.setLinks(n, l, w.sel2)
		}
	}
}

// Compact rebuilds the graph from the live vectors, dropping tombstones.
// Slots are renumbered, so every slot is dirty afterwards.
func (x *Index) Compact() {
	x.mu.Lock()
	defer x.mu.Unlock()
	fresh := New(x.dim, x.o)
	for s, id := range x.ids {
		if x.dead[s] {
			continue
		}
		ns := uint32(len(fresh.ids))
		fresh.ids = append(fresh.ids, id)
		fresh.vecs = append(fresh.vecs, x.vec(uint32(s))...)
		level := fresh.randomLevel()
		fresh.appendSlot(level)
		fresh.slotOf[id] = ns
		fresh.live++
		fresh.insert(ns, level)
		fresh.maybeQuantize(ns)
	}
	x.ids, x.vecs, x.levels, x.dead = fresh.ids, fresh.vecs, fresh.levels, fresh.dead
	x.l0, x.upper, x.slotOf, x.live = fresh.l0, fresh.upper, fresh.slotOf, fresh.live
	x.entry, x.maxLevel, x.quant, x.codes, x.csum = fresh.entry, fresh.maxLevel, fresh.quant, fresh.codes, fresh.csum
	x.rng = fresh.rng
	x.dirtyMark = make([]bool, len(x.ids))
	x.dirty = x.dirty[:0]
	for s := range x.ids {
		x.markDirty(uint32(s))
	}
}
