package rerank

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable: a candidate image's tokens could not be had: its file is missing, moved or
// undecodable and the cache has no copy. The search keeps such a candidate unreranked.
var ErrUnavailable = errors.New("rerank: image tokens unavailable")

// ImageRef names a stored image whose ITM tokens are wanted. When they must be recomputed,
// [Recompute] reads the first of Copy, Path and Fallback that decodes.
type ImageRef struct {
	ContentID uint64 // images with the same content share tokens (the cache key)
	// Copy is the indexer's model-resolution copy of the content (indexer.TokensCopies, in
	// library.CopyDir): the image as the model's preprocessing sees it, a JPEG of a few dozen
	// KiB at most that decodes in about a millisecond where a 12 MP original takes tens to
	// hundreds, and gives the original's tokens to its JPEG loss. Empty, missing or
	// undecodable: Path is read.
	Copy string
	Path string // the original file
	// Fallback is read when neither Copy nor Path can be (a moved or deleted original without a
	// copy): the indexer's thumbnail, whose pixels differ slightly (resized, JPEG). Empty: none.
	Fallback string
}

// Stats accumulates what fetching tokens cost. Not safe for concurrent use: one per query.
type Stats struct {
	Hits, Misses int           // cache hits and misses (a Recompute source counts misses)
	Read         time.Duration // reading and decoding files (image or cache files), preprocessing
	Encode       time.Duration // the vision encoder (model compute)
}

// Source supplies the ITM image tokens [N*C] of stored images. Implementations: [Recompute] and
// [TokenCache]. Tokens returns one entry per ref in order; errs is nil when every entry is set,
// otherwise errs[i] (wrapping [ErrUnavailable], or the context's error) explains a nil
// tokens[i]. Implementations are safe for concurrent use.
type Source interface {
	Tokens(ctx context.Context, refs []ImageRef, st *Stats) (tokens [][]float32, errs []error)
}

var (
	_ Source = (*Recompute)(nil)
	_ Source = (*TokenCache)(nil)
)
