package indexer

import (
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
)

// Defaults of Options.
const (
	DefaultBatch     = 32
	DefaultThumbSize = 256
	DefaultMaxPixels = encoder.DefaultMaxPixels
	DefaultMaxBytes  = encoder.DefaultMaxBytes
)

// Token policies (Options.Tokens): what the indexer does with the ITM image tokens the vision
// encoder computes beside each embedding, which a query's rerank needs for every candidate.
const (
	// TokensEager stores them in the library's token cache (library.TokenDir) as each image is
	// embedded, so that no query has to decode an original again: 16.6 KiB a photo with the
	// default model.
	TokensEager = "eager"
	// TokensCopies stores them in the token cache while it has room (Options.TokenBudget; it
	// evicts nothing to make room while indexing) and writes a model-resolution copy of each
	// new content (library.CopyDir): the image exactly as the model's preprocessing sees it
	// (upright as the model wants it, resized and cropped to its S x S input), as a 4:4:4 JPEG
	// of quality 90, 30 to 60 KiB at S = 336..384 and 2 to 3.5 KiB at the default model's 80.
	// A query that reranks an image whose tokens are not cached (past the budget, or evicted
	// since) runs the vision encoder on its copy instead of decoding the original (about a
	// millisecond against tens to hundreds for a 12 MP JPEG, PNG or HEIC), then caches the
	// tokens; they differ from the original's by the copy's JPEG loss (cosine 0.999 or more
	// with the default model). The default for a model whose tokens are too large for
	// TokensEager: a library that fits the budget (1,200 photos of BLIP base's 0.87 MB in the
	// default 1 GiB) gets first queries as fast as the next; the copies bound what a larger
	// one costs. Like thumbnails, copies have no size budget; like the token cache's files,
	// they stay when their records are removed (content ids are never reused). Another bundle
	// writes its own folder.
	TokensCopies = "copies"
	// TokensLazy drops them: the first query that reranks an image decodes its original and
	// runs the vision encoder again, then caches them.
	TokensLazy = "lazy"
)

// TokenPolicies are the values of Options.Tokens, in the order of their cost at query time.
var TokenPolicies = []string{TokensEager, TokensCopies, TokensLazy}

// ParseTokens accepts a token policy name (TokenPolicies; empty is not one).
func ParseTokens(s string) (string, error) {
	if slices.Contains(TokenPolicies, s) {
		return s, nil
	}
	return "", fmt.Errorf("token policy %q: want %s", s, strings.Join(TokenPolicies, ", "))
}

// MaxEagerTokenBytes is the largest fp16 size of one image's tokens for which TokensEager is the
// default: 64 KiB (the default model's take 16.6 KiB; a ViT-L's 577 x 768, 0.9 MB, would fill
// the cache's budget with a few thousand photos).
const MaxEagerTokenBytes = 64 << 10

// defaultTokens is Options.Tokens when empty, for a model with or without an ITM head whose
// tokens take tokenBytes for one image in fp16: TokensEager up to MaxEagerTokenBytes,
// TokensCopies past it, TokensLazy without an ITM head (nothing reranks).
func defaultTokens(hasITM bool, tokenBytes int) string {
	switch {
	case !hasITM:
		return TokensLazy
	case tokenBytes <= MaxEagerTokenBytes:
		return TokensEager
	}
	return TokensCopies
}

// DefaultSkipDirs are folder names never entered (NAS and OS bookkeeping), besides hidden
// (dot) folders.
var DefaultSkipDirs = []string{"@eaDir", "#recycle", "#snapshot", "$RECYCLE.BIN",
	"System Volume Information", "lost+found", "node_modules", "__MACOSX"}

// Options configures an [Indexer]. Zero fields take the documented defaults.
type Options struct {
	// Workers decode and preprocess files in parallel (default runtime.NumCPU()). Each holds
	// one encoded file and its decoded pixels in memory.
	Workers int
	// Encoders is the number of batches encoded at once (default 1). With a model opened with
	// one intra-op thread, Encoders = the number of cores keeps every core busy without the
	// stalls of one multi-threaded run whose threads share the cores with the decode workers
	// (`make bench-index` measures both).
	Encoders int
	// Batch is the number of images per encoder run and per database transaction (default
	// DefaultBatch = 32). Larger batches mean fewer fsyncs but more work lost on a kill -9.
	Batch int
	// MaxPixels caps width x height, read from the header before decoding (default
	// DefaultMaxPixels = 100 megapixels). Larger images are skipped.
	MaxPixels int64
	// MaxBytes caps the size of one file (default DefaultMaxBytes = 256 MiB); larger files are
	// skipped.
	MaxBytes int64
	// ThumbSize is the longest side of thumbnails (default DefaultThumbSize = 256); negative
	// disables thumbnails.
	ThumbSize int
	// FullDecode turns off libjpeg-turbo's DCT-domain scaling: every JPEG is decoded at full
	// size. Default false: a JPEG is decoded at the smallest of the scales 1/8..1 whose output
	// still covers the model input and the thumbnail, several times faster on camera photos;
	// the model then resizes an already area-reduced image, so embeddings differ very slightly
	// from a full decode (cosine ~0.99+, see the package benchmark).
	FullDecode bool
	// Hidden also walks hidden (dot) folders and files. Default false.
	Hidden bool
	// Confine, when set, are the only folders files may be indexed from: a root or a symlink
	// whose target (symlinks resolved) lies outside all of them is skipped (ErrOutside). A
	// server's index jobs set it to its --index-root folders. Default: anywhere.
	Confine []string
	// SkipDirs are folder names not entered (default DefaultSkipDirs). Set to an empty,
	// non-nil slice to enter every folder.
	SkipDirs []string
	// OnFile receives the outcome of every file (the --report lines). It is never called
	// concurrently. Nil: none.
	OnFile func(FileResult)
	// OnProgress receives the running counts after every file. It is never called
	// concurrently, and must be quick. Nil: none.
	OnProgress func(Progress)
	// Tokens is the token policy: TokensEager, TokensCopies or TokensLazy (default: for a model
	// with an ITM head, eager when an image's tokens take at most MaxEagerTokenBytes, else
	// copies; lazy without one). Eager tokens and copies are written only into the library's
	// own database's folders (Catalog nil), for a model with an ITM head. A server's index jobs
	// leave it empty: they take the default, writing copies into library.CopyDir as `indexer
	// add` does, which the server's searcher reads (searcher.Options.CopyDir's default).
	Tokens string
	// TokenCache is where TokensEager and TokensCopies store tokens (a server passes its
	// searcher's). Default: the cache in library.TokenDir of the model's namespace, opened with
	// TokenBudget. Unused by TokensLazy.
	TokenCache *rerank.TokenCache
	// TokenBudget caps the bytes of the token cache the indexer opens (default
	// rerank.DefaultCacheBudget, 1 GiB: about 64,000 photos with the default model; past it
	// the least recently used go, and a query recomputes them).
	TokenBudget int64
	// Catalog is where records and embeddings go. Default: the library's database, in the
	// model's namespace. The seam lets a running server take the batches instead.
	Catalog Catalog
	// Logger receives warnings and per-batch debug lines. Nil: silent.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Encoders <= 0 {
		o.Encoders = 1
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.ThumbSize == 0 {
		o.ThumbSize = DefaultThumbSize
	}
	if o.SkipDirs == nil {
		o.SkipDirs = DefaultSkipDirs
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
