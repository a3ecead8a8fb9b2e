package rerank

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
)

// RecomputeOptions configures [NewRecompute]. The zero value is ready to use.
type RecomputeOptions struct {
	// Workers decode and preprocess files in parallel (default GOMAXPROCS).
	Workers int
	// Open opens an image file (default os.Open); a test seam.
	Open func(path string) (io.ReadCloser, error)
}

// Recompute is the [Source] that decodes each candidate's file (its model-resolution copy when
// it has one, else the original; see [ImageRef]), preprocesses it and runs the vision encoder:
// no storage, but a decode and a vision run per candidate and query.
// It is safe for concurrent use.
type Recompute struct {
	vision  *encoder.Vision
	pre     *encoder.Preprocessor
	workers int
	open    func(string) (io.ReadCloser, error)
}

// NewRecompute returns a Recompute source over m's vision encoder.
func NewRecompute(m *encoder.Model, o RecomputeOptions) *Recompute {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Open == nil {
		o.Open = func(p string) (io.ReadCloser, error) { return os.Open(p) }
	}
	return &Recompute{vision: m.Vision, pre: m.Preprocessor(), workers: o.Workers, open: o.Open}
}

// TokenLen is N*C, the length of one image's tokens.
func (r *Recompute) TokenLen() int { return r.vision.TokenLen() }

// Tokens implements [Source].
func (r *Recompute) Tokens(ctx context.Context, refs []ImageRef, st *Stats) ([][]float32, []error) {
	out := make([][]float32, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	per := r.pre.Len()
	pix := make([]float32, len(refs)*per)
	errs := make([]error, len(refs))
	t0 := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.workers)
	for i, ref := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			errs[i] = r.read(ref, pix[i*per:(i+1)*per])
		}()
	}
	wg.Wait()
	var ok []int
	for i, err := range errs {
		if err == nil {
			ok = append(ok, i)
		}
	}
	if st != nil {
		st.Misses += len(refs)
		st.Read += time.Since(t0)
	}
	if len(ok) == 0 {
		return out, errs
	}
	// compact the good images to the front and encode them in one call
	for j, i := range ok {
		if i != j {
			copy(pix[j*per:(j+1)*per], pix[i*per:(i+1)*per])
		}
	}
	t1 := time.Now()
	res, err := r.vision.EncodePixels(ctx, pix[:len(ok)*per], encoder.VisionOptions{Tokens: true})
	if st != nil {
		st.Encode += time.Since(t1)
	}
	if err != nil {
		for _, i := range ok {
			errs[i] = fmt.Errorf("vision encoder: %w", err)
		}
		return out, errs
	}
	for j, i := range ok {
		out[i] = res.Tokens[j]
	}
	if len(ok) == len(refs) {
		return out, nil
	}
	return out, errs
}

// read decodes and preprocesses the first of the ref's copy, original and fallback that can
// be read into dst. The error, when none can, is the original's (the copy's when there is no
// original).
func (r *Recompute) read(ref ImageRef, dst []float32) error {
	var first error
	for _, p := range [...]string{ref.Copy, ref.Path, ref.Fallback} {
		if p == "" {
			continue
		}
		err := r.pixels(p, dst)
		if err == nil {
			return nil
		}
		if first == nil || p == ref.Path {
			first = err
		}
	}
	if first == nil {
		return fmt.Errorf("%w: content %d: no file named", ErrUnavailable, ref.ContentID)
	}
	return first
}

// pixels decodes and preprocesses one file into dst.
func (r *Recompute) pixels(path string, dst []float32) error {
	f, err := r.open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer f.Close()
	img, err := r.pre.Decode(f)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	if err := r.pre.PixelsInto(dst, img); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	return nil
}
