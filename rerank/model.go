package rerank

import (
	"context"
	"errors"
	"fmt"

	"github.com/glimpse-search/glimpse/encoder"
)

// DefaultBatch is Options.Batch when zero.
const DefaultBatch = 32

// ErrInput: a candidate's tokens or states have the wrong length, or a text is blank.
var ErrInput = errors.New("rerank: invalid input")

// Options configures [New]. The zero value is ready to use.
type Options struct {
	// Batch is the most pairs given to one ITM call (default DefaultBatch = 32). The encoder
	// further splits a call into runs of its own Options.MaxBatch; raise both to run bigger
	// batches. Cost: Batch x N x C floats of packed image tokens per call.
	Batch int
}

// Model scores candidate pairs with a model's ITM head. It is safe for concurrent use.
type Model struct {
	m     *encoder.Model
	batch int
}

// New wraps m, which must have an ITM head (else the error wraps [encoder.ErrNoITM]).
func New(m *encoder.Model, o Options) (*Model, error) {
	if m == nil || !m.HasITM() {
		name := "<nil>"
		if m != nil {
			name = m.Manifest.Name
		}
		return nil, fmt.Errorf("rerank: model %s: %w", name, encoder.ErrNoITM)
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	return &Model{m: m, batch: o.Batch}, nil
}

// Batch is the number of pairs per ITM call.
func (r *Model) Batch() int { return r.batch }

// Score is the ITM output for one pair.
type Score struct {
	Logits [2]float32 // [no match, match], the ITM head's raw output
	PMatch float32    // softmax(Logits)[1], the match probability
}

// MatchLogit is Logits[1], the raw match logit: what mPLUG's, ALBEF's and BLIP's evaluations
// rank by. Unlike PMatch it is not comparable across models, nor a probability.
func (s Score) MatchLogit() float32 { return s.Logits[1] }

func score(l [2]float32) Score { return Score{Logits: l, PMatch: encoder.PMatch(l)} }

// Text is one text's ITM input, computed once per query by the text encoder.
type Text struct {
	States []float32 // [L*C]
	Mask   []int64   // [L]
}

// EncodeTexts runs the text encoder on texts and returns their ITM inputs and ITC embeddings.
func (r *Model) EncodeTexts(ctx context.Context, texts []string) ([]Text, [][]float32, error) {
	out, err := r.m.Text.Encode(ctx, texts, encoder.TextOptions{States: true})
	if err != nil {
		return nil, nil, fmt.Errorf("rerank: encode %d texts: %w", len(texts), err)
	}
	ts := make([]Text, len(texts))
	for i := range ts {
		ts[i] = Text{States: out.States[i], Mask: out.Masks[i]}
	}
	return ts, out.Embeds, nil
}

// Images scores one text against candidate images' tokens (each [N*C]): the text's states are
// reused for every pair. Scores are in candidate order.
func (r *Model) Images(ctx context.Context, text Text, tokens [][]float32) ([]Score, error) {
	pairs := make([]encoder.Pair, len(tokens))
	for i, t := range tokens {
		pairs[i] = encoder.Pair{ImageTokens: t, TextStates: text.States, Mask: text.Mask}
	}
	return r.run(ctx, pairs)
}

// Texts scores one image's tokens against candidate texts: the image tokens are reused for every
// pair and the texts' states are computed by the text encoder (cheap next to the ITM head).
func (r *Model) Texts(ctx context.Context, imageTokens []float32, texts []string) ([]Score, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	ts, _, err := r.EncodeTexts(ctx, texts)
	if err != nil {
		return nil, err
	}
	return r.TextStates(ctx, imageTokens, ts)
}

// TextStates is Texts for texts already encoded by [Model.EncodeTexts].
func (r *Model) TextStates(ctx context.Context, imageTokens []float32, texts []Text) ([]Score, error) {
	pairs := make([]encoder.Pair, len(texts))
	for i, t := range texts {
		pairs[i] = encoder.Pair{ImageTokens: imageTokens, TextStates: t.States, Mask: t.Mask}
	}
	return r.run(ctx, pairs)
}

func (r *Model) run(ctx context.Context, pairs []encoder.Pair) ([]Score, error) {
	out := make([]Score, 0, len(pairs))
	for start := 0; start < len(pairs); start += r.batch {
		batch := pairs[start:min(start+r.batch, len(pairs))]
		res, err := r.m.ITM.Score(ctx, batch, encoder.ITMOptions{})
		if err != nil {
			if errors.Is(err, encoder.ErrInput) {
				return nil, fmt.Errorf("%w: pairs %d..%d: %v", ErrInput, start, start+len(batch)-1, err)
			}
			return nil, fmt.Errorf("rerank: pairs %d..%d: %w", start, start+len(batch)-1, err)
		}
		for _, l := range res.Logits {
			out = append(out, score(l))
		}
	}
	return out, nil
}

// Attention is one pair's score with the ITM graph's last-layer cross-attention.
type Attention struct {
	Score
	// Cross is the cross-attention [L*N], row-major (text token, image token), mean over heads;
	// nil when the graph has no cross_attention output.
	Cross []float32
}

// Attend scores one pair and keeps its cross-attention (the input of an explanation).
func (r *Model) Attend(ctx context.Context, imageTokens []float32, text Text) (*Attention, error) {
	res, err := r.m.ITM.Score(ctx, []encoder.Pair{{ImageTokens: imageTokens, TextStates: text.States, Mask: text.Mask}},
		encoder.ITMOptions{CrossAttention: true})
	if err != nil {
		return nil, fmt.Errorf("rerank: attend: %w", err)
	}
	a := &Attention{Score: score(res.Logits[0])}
	if len(res.CrossAttention) > 0 {
		a.Cross = res.CrossAttention[0]
	}
	return a, nil
}
