package encoder

import (
	"context"
	"fmt"
	"image"
)

// Vision is the image encoder. It is safe for concurrent use.
type Vision struct {
	s                  *session
	pre                *Preprocessor
	dim, tokens, width int
	size, maxBatch     int
	hasTokens          bool // the graph gives image tokens (a dual encoder's may not)
}

// VisionOptions selects optional vision outputs.
type VisionOptions struct {
	// Tokens keeps the image tokens (the ITM input, N*C floats per image); without it, or for a
	// dual encoder whose graph gives none, only the embeddings are returned.
	Tokens bool
}

// VisionOutput holds one entry per input image, in input order.
type VisionOutput struct {
	Embeds [][]float32 // [D], L2-normalised ITC embeddings
	Tokens [][]float32 // [N*C] row-major (CLS first); nil unless VisionOptions.Tokens
}

// Dim is D, the embedding size.
func (v *Vision) Dim() int { return v.dim }

// TokenLen is N*C, the length of one image's tokens.
func (v *Vision) TokenLen() int { return v.tokens * v.width }

// Encode preprocesses imgs and runs the vision graph, MaxBatch images per run.
func (v *Vision) Encode(ctx context.Context, imgs []image.Image, opts VisionOptions) (*VisionOutput, error) {
	out := &VisionOutput{}
	per := v.pre.Len()
	for start := 0; start < len(imgs); start += v.maxBatch {
		batch := imgs[start:min(start+v.maxBatch, len(imgs))]
		pix := make([]float32, len(batch)*per)
		for i, img := range batch {
			if err := v.pre.PixelsInto(pix[i*per:(i+1)*per], img); err != nil {
				return nil, fmt.Errorf("image %d: %w", start+i, err)
			}
		}
		if err := v.run(ctx, pix, len(batch), opts, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EncodePixels runs the vision graph on n images already preprocessed by the model's
// [Preprocessor]: pixels holds n*3*S*S floats.
func (v *Vision) EncodePixels(ctx context.Context, pixels []float32, opts VisionOptions) (*VisionOutput, error) {
	per := v.pre.Len()
	if len(pixels)%per != 0 {
		return nil, fmt.Errorf("%w: %d pixel values is not a multiple of 3*%d*%d", ErrInput, len(pixels), v.size, v.size)
	}
	n := len(pixels) / per
	out := &VisionOutput{}
	for start := 0; start < n; start += v.maxBatch {
		b := min(v.maxBatch, n-start)
		if err := v.run(ctx, pixels[start*per:(start+b)*per], b, opts, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (v *Vision) run(ctx context.Context, pix []float32, b int, opts VisionOptions, out *VisionOutput) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hasTokens := v.hasTokens
	emb := make([]float32, b*v.dim)
	var tok []float32
	var in, o tensors
	addTensor(&in, pix, int64(b), 3, int64(v.size), int64(v.size))
	addTensor(&o, emb, int64(b), int64(v.dim))
	if hasTokens {
		tok = make([]float32, b*v.tokens*v.width)
		addTensor(&o, tok, int64(b), int64(v.tokens), int64(v.width))
	}
	if err := runGraph(v.s, &in, &o); err != nil {
		return err
	}
	out.Embeds = append(out.Embeds, split(emb, b)...)
	if opts.Tokens && hasTokens {
		out.Tokens = append(out.Tokens, split(tok, b)...)
	}
	return nil
}

// split cuts buf into n equal rows with capped capacity.
func split[T any](buf []T, n int) [][]T {
	rows := make([][]T, n)
	w := len(buf) / max(n, 1)
	for i := range rows {
		rows[i] = buf[i*w : (i+1)*w : (i+1)*w]
	}
	return rows
}
