package encoder

import (
	"context"
	"fmt"
	"math"
	"sync"
)

// ITM is the image-text-matching head (fusion layers + 2-way classifier). It is safe for
// concurrent use.
type ITM struct {
	s                *session
	tokens, width    int
	maxLen, maxBatch int
	hasCross         bool

	mu      sync.Mutex
	scratch []*itmScratch // free list, at most maxFreeScratch
}

// maxFreeScratch is the most idle scratch sets an ITM keeps (as many as reranks run at once on
// a small machine). A free list, not a sync.Pool: a pool is emptied by every other GC cycle, and
// the next rerank then allocated and zeroed its 8 MB again, which brought the next cycle sooner.
const maxFreeScratch = 4

// itmScratch holds one run's packed inputs (and the outputs that are not returned), reused
// across calls: at a batch of 128 tiny-scenes pairs they are 8 MB, which a search would
// otherwise allocate, zero and leave to the GC on every rerank, and the GC cycles they bring
// land in the next search's candidate stages.
type itmScratch struct {
	img, states, cross []float32
	mask               []int64
}

// Pair is one (image, text) input of the ITM head, as produced by the encoders.
type Pair struct {
	ImageTokens []float32 // [N*C], VisionOutput.Tokens[i]
	TextStates  []float32 // [L*C], TextOutput.States[j]
	Mask        []int64   // [L], TextOutput.Masks[j]
}

// ITMOptions selects optional ITM outputs.
type ITMOptions struct {
	// CrossAttention keeps the last fusion layer's cross-attention (L*N floats per pair, mean
	// over heads), when the graph has it (see HasCrossAttention).
	CrossAttention bool
}

// ITMOutput holds one entry per pair, in input order.
type ITMOutput struct {
	Logits         [][2]float32 // index 1 = match; see PMatch
	CrossAttention [][]float32  // [L*N] row-major; nil unless requested and available
}

// HasCrossAttention reports whether the graph outputs cross_attention.
func (m *ITM) HasCrossAttention() bool { return m.hasCross }

// Score runs the ITM head on pairs, MaxBatch pairs per run.
func (m *ITM) Score(ctx context.Context, pairs []Pair, opts ITMOptions) (*ITMOutput, error) {
	nc, l := m.tokens*m.width, m.maxLen
	lc := l * m.width
	for i, p := range pairs {
		if len(p.ImageTokens) != nc || len(p.TextStates) != lc || len(p.Mask) != l {
			return nil, fmt.Errorf("%w: pair %d: image tokens %d (want %d), text states %d (want %d), mask %d (want %d)",
				ErrInput, i, len(p.ImageTokens), nc, len(p.TextStates), lc, len(p.Mask), l)
		}
	}
	out := &ITMOutput{}
	sc := m.getScratch()
	defer m.putScratch(sc) // the tensors over it are destroyed when each run returns
	for start := 0; start < len(pairs); start += m.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := pairs[start:min(start+m.maxBatch, len(pairs))]
		b := len(batch)
		sc.img, sc.states, sc.mask = grow(&sc.img, b*nc)[:0], grow(&sc.states, b*lc)[:0], grow(&sc.mask, b*l)[:0]
		for _, p := range batch {
			sc.img = append(sc.img, p.ImageTokens...)
			sc.states = append(sc.states, p.TextStates...)
			sc.mask = append(sc.mask, p.Mask...)
		}
		logits := make([]float32, b*2)
		var cross []float32
		var in, o tensors
		addTensor(&in, sc.img, int64(b), int64(m.tokens), int64(m.width))
		addTensor(&in, sc.states, int64(b), int64(l), int64(m.width))
		addTensor(&in, sc.mask, int64(b), int64(l))
		addTensor(&o, logits, int64(b), 2)
		if m.hasCross {
			if opts.CrossAttention { // returned to the caller: its own memory
				cross = make([]float32, b*l*m.tokens)
			} else {
				cross = grow(&sc.cross, b*l*m.tokens)
			}
			addTensor(&o, cross, int64(b), int64(l), int64(m.tokens))
		}
		if err := runGraph(m.s, &in, &o); err != nil {
			return nil, err
		}
		for i := range b {
			out.Logits = append(out.Logits, [2]float32{logits[2*i], logits[2*i+1]})
		}
		if opts.CrossAttention && m.hasCross {
			out.CrossAttention = append(out.CrossAttention, split(cross, b)...)
		}
	}
	return out, nil
}

func (m *ITM) getScratch() *itmScratch {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.scratch); n > 0 {
		sc := m.scratch[n-1]
		m.scratch = m.scratch[:n-1]
		return sc
	}
	return &itmScratch{}
}

func (m *ITM) putScratch(sc *itmScratch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.scratch) < maxFreeScratch {
		m.scratch = append(m.scratch, sc)
	}
}

// Softmax2 returns [p_no_match, p_match], the softmax of ITM logits.
func Softmax2(logits [2]float32) [2]float32 {
	a, b := float64(logits[0]), float64(logits[1])
	m := math.Max(a, b)
	ea, eb := math.Exp(a-m), math.Exp(b-m)
	return [2]float32{float32(ea / (ea + eb)), float32(eb / (ea + eb))}
}

// PMatch is the match probability: the softmax of the logits at index 1.
func PMatch(logits [2]float32) float32 { return Softmax2(logits)[1] }
