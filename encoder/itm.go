package encoder

import (
	"context"
	"fmt"
	"math"
)

// ITM is the image-text-matching head (fusion layers + 2-way classifier). It is safe for
// concurrent use.
type ITM struct {
	s                *session
	tokens, width    int
	maxLen, maxBatch int
	hasCross         bool
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
	for start := 0; start < len(pairs); start += m.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := pairs[start:min(start+m.maxBatch, len(pairs))]
		b := len(batch)
		img := make([]float32, 0, b*nc)
		states := make([]float32, 0, b*lc)
		mask := make([]int64, 0, b*l)
		for _, p := range batch {
			img = append(img, p.ImageTokens...)
			states = append(states, p.TextStates...)
			mask = append(mask, p.Mask...)
		}
		logits := make([]float32, b*2)
		var cross []float32
		var in, o tensors
		addTensor(&in, img, int64(b), int64(m.tokens), int64(m.width))
		addTensor(&in, states, int64(b), int64(l), int64(m.width))
		addTensor(&in, mask, int64(b), int64(l))
		addTensor(&o, logits, int64(b), 2)
		if m.hasCross {
			cross = make([]float32, b*l*m.tokens)
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

// Softmax2 returns [p_no_match, p_match], the softmax of ITM logits.
func Softmax2(logits [2]float32) [2]float32 {
	a, b := float64(logits[0]), float64(logits[1])
	m := math.Max(a, b)
	ea, eb := math.Exp(a-m), math.Exp(b-m)
	return [2]float32{float32(ea / (ea + eb)), float32(eb / (ea + eb))}
}

// PMatch is the match probability: the softmax of the logits at index 1.
func PMatch(logits [2]float32) float32 { return Softmax2(logits)[1] }
