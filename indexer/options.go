package indexer

import (
	"log/slog"
	"runtime"
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
	// TokensLazy drops them: the first query that reranks an image decodes its original and
	// runs the vision encoder again, then caches them.
	TokensLazy = "lazy"
)

// MaxEagerTokenBytes is the largest fp16 size of one image's tokens for which TokensEager is the
// default: 64 KiB (the default model's take 16.6 KiB; a ViT-L's 577 x 768, 0.9 MB, would fill
// the cache's budget with a few thousand photos).
const MaxEagerTokenBytes = 64 << 10

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
	// Tokens is the token policy, TokensEager or TokensLazy (default: eager when the model has
	// an ITM head and an image's tokens take at most MaxEagerTokenBytes, else lazy).
	Tokens string
	// TokenCache is where TokensEager stores tokens (a server passes its searcher's). Default:
	// the cache in library.TokenDir of the model's namespace, opened with TokenBudget.
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
