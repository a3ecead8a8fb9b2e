package encoder

import (
	"context"
	"fmt"

	"github.com/glimpse-search/glimpse/encoder/tokenizer"
)

// Text is the text encoder with its tokenizer. It is safe for concurrent use.
type Text struct {
	s                *session
	tok              tokenizer.Tokenizer
	dim, width       int
	maxLen, maxBatch int
	hasStates        bool // the graph gives text states (a dual encoder's may not)
}

// TextOptions selects optional text outputs.
type TextOptions struct {
	// States keeps the text states (the ITM input, L*C floats per text); a dual encoder whose
	// graph gives none returns none.
	States bool
}

// TextOutput holds one entry per input text, in input order.
type TextOutput struct {
	IDs    [][]int64   // [L] token ids, padded to the tokenizer's max length
	Masks  [][]int64   // [L] attention mask: 1 for tokens, 0 for padding
	Embeds [][]float32 // [D], L2-normalised ITC embeddings
	States [][]float32 // [L*C] row-major; nil unless TextOptions.States
}

// Tokenizer returns the bundle's tokenizer (safe for concurrent use).
func (t *Text) Tokenizer() tokenizer.Tokenizer { return t.tok }

// MaxLength is L, the token length of every text (special tokens included).
func (t *Text) MaxLength() int { return t.maxLen }

// Dim is D, the embedding size.
func (t *Text) Dim() int { return t.dim }

// Encode tokenizes texts (over-long texts are truncated) and runs the text graph, MaxBatch
// texts per run.
func (t *Text) Encode(ctx context.Context, texts []string, opts TextOptions) (*TextOutput, error) {
	out := &TextOutput{}
	for start := 0; start < len(texts); start += t.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := texts[start:min(start+t.maxBatch, len(texts))]
		ids, mask := tokenizer.EncodeBatch(t.tok, batch)
		if err := t.run(ids, mask, len(batch), opts, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EncodeIDs runs the text graph on texts already tokenized by [Text.Tokenizer]: ids and mask
// hold n rows of MaxLength values each (as [tokenizer.EncodeBatch] returns them), MaxBatch
// texts per run. It lets a caller time tokenization apart from the graph.
func (t *Text) EncodeIDs(ctx context.Context, ids, mask []int64, opts TextOptions) (*TextOutput, error) {
	l := t.maxLen
	if len(ids) != len(mask) || len(ids)%l != 0 {
		return nil, fmt.Errorf("%w: %d ids and %d mask values are not rows of %d", ErrInput, len(ids), len(mask), l)
	}
	n := len(ids) / l
	out := &TextOutput{}
	for start := 0; start < n; start += t.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := min(t.maxBatch, n-start)
		if err := t.run(ids[start*l:(start+b)*l], mask[start*l:(start+b)*l], b, opts, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// run encodes b tokenized texts and appends them to out.
func (t *Text) run(ids, mask []int64, b int, opts TextOptions, out *TextOutput) error {
	l := t.maxLen
	if len(ids) != b*l {
		return fmt.Errorf("%w: tokenizer gave %d ids for %d texts of length %d", ErrInput, len(ids), b, l)
	}
	hasStates := t.hasStates
	emb := make([]float32, b*t.dim)
	var states []float32
	var in, o tensors
	for _, name := range t.s.inputs { // input_ids, then attention_mask when the graph takes one
		v := ids
		if name == InAttentionMask {
			v = mask
		}
		if t.s.int32[name] {
			addTensor(&in, toInt32(v), int64(b), int64(l))
		} else {
			addTensor(&in, v, int64(b), int64(l))
		}
	}
	addTensor(&o, emb, int64(b), int64(t.dim))
	if hasStates {
		states = make([]float32, b*l*t.width)
		addTensor(&o, states, int64(b), int64(l), int64(t.width))
	}
	if err := runGraph(t.s, &in, &o); err != nil {
		return err
	}
	out.IDs = append(out.IDs, split(ids, b)...)
	out.Masks = append(out.Masks, split(mask, b)...)
	out.Embeds = append(out.Embeds, split(emb, b)...)
	if opts.States && hasStates {
		out.States = append(out.States, split(states, b)...)
	}
	return nil
}

// toInt32 converts token ids or a mask for a graph that takes int32 (ids are vocabulary
// indices, far below 2^31).
func toInt32(v []int64) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}
