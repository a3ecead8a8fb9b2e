package rerank

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable: a candidate image's tokens could not be had: its file is missing, moved or
// undecodable and the cache has no copy. The search keeps such a candidate unreranked.
var ErrUnavailable = errors.New("rerank: image tokens unavailable")

// ImageRef names a stored image whose ITM tokens are wanted.
type ImageRef struct {
	ContentID uint64 // images with the same content share tokens (the cache key)
	Path      string // the original file, read when the tokens must be recomputed
	// Fallback is read when Path cannot be (a moved or deleted original): the indexer's
	// thumbnail, whose pixels differ slightly (resized, JPEG). Empty: none.
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
