package searcher

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
)

// Defaults and limits of query parameters.
const (
	DefaultK     = 128 // ITM rerank depth, ALBEF's and BLIP's k_test on Flickr30k
	DefaultLimit = 20
	MaxK         = 1024
	MaxLimit     = 1000
	// DefaultMinScore is the minimum ITM match probability when the bundle names no
	// scores.match_threshold.
	DefaultMinScore = 0.5
	// MaxQueryBytes caps a text query; longer ones are refused. Anything shorter is cut to the
	// model's token length by the tokenizer.
	MaxQueryBytes = 1 << 20
)

// Rank says how reranked candidates are ordered: the formulas of the bundle manifest's
// scores.rank. Whichever orders them, the minimum score applies to the match probability
// p_match = softmax(itm_logits)[1] alone, and results report it.
type Rank string

const (
	// RankITM orders by the ITM match probability p_match.
	RankITM Rank = encoder.RankITM
	// RankITMITC orders by p_match plus the ITC similarity.
	RankITMITC Rank = encoder.RankITMITC
	// RankITMLogit orders by the raw ITM match logit itm_logits[1], as mPLUG's and ALBEF's
	// evaluations do. p_match = sigmoid(l1 - l0) is not monotone in it: a pair with a higher
	// match logit can have a lower probability, when its no-match logit is higher still.
	RankITMLogit Rank = encoder.RankITMLogit
	// RankITMLogitITC orders by itm_logits[1] plus the ITC similarity, as BLIP's evaluation does.
	RankITMLogitITC Rank = encoder.RankITMLogitITC
)

// ParseRank accepts the four Rank formulas (encoder.ITMRanks).
func ParseRank(s string) (Rank, error) {
	if slices.Contains(encoder.ITMRanks, s) {
		return Rank(s), nil
	}
	return "", fmt.Errorf("%w: rank %q: want one of %s", ErrInput, s, strings.Join(encoder.ITMRanks, ", "))
}

// TokenStrategy says where the ITM tokens of candidate images come from.
type TokenStrategy string

const (
	// TokensCache reads fp16 tokens from a cache beside the store, recomputing and storing
	// misses (the default: see DefaultTokens).
	TokensCache TokenStrategy = "cache"
	// TokensRecompute decodes each candidate's original file and runs the vision encoder on it
	// for every query: no disk space, but a decode and a vision run per candidate.
	TokensRecompute TokenStrategy = "recompute"
)

// DefaultTokens is Options.Tokens when empty. `make bench-query` (100,000 images, the trained
// tiny-scenes, 2 CPU cores) measured a text query's fetch stage at K = 16 / 64 / 128 at p50
// 0.45 / 1.8 / 2.4 ms from the cache, against 15 / 57 / 114 ms to decode and preprocess the
// 256 px originals plus 14 / 42 / 88 ms of vision encoder for recompute: the cache keeps
// everything but model compute under 5 ms at p99 even at K = 128, recompute doubles or triples
// the query. The cache costs 2 x N x C bytes per image on disk (16.6 KiB for tiny-scenes,
// 0.9 MB for mPLUG-large) and is filled by the first query that needs an image.
const DefaultTokens = TokensCache

// ParseTokenStrategy accepts "cache" and "recompute".
func ParseTokenStrategy(s string) (TokenStrategy, error) {
	switch t := TokenStrategy(s); t {
	case TokensCache, TokensRecompute:
		return t, nil
	}
	return "", fmt.Errorf("%w: tokens %q: want %s or %s", ErrInput, s, TokensCache, TokensRecompute)
}

// Options configures [New]. The zero value is ready to use.
type Options struct {
	// Namespace is the store namespace (default: the model name, as the indexer uses it).
	Namespace string
	// K is the default rerank depth (default DefaultK = 128). Cost: K ITM pairs per query.
	K int
	// Limit is the default page size (default DefaultLimit = 20).
	Limit int
	// MinScore is the default minimum ITM match probability (default: the bundle's
	// scores.match_threshold, else DefaultMinScore = 0.5). 0 keeps every candidate.
	MinScore *float64
	// Rank is the default ordering (default: the bundle's scores.rank, else RankITM).
	Rank Rank
	// Ef is the HNSW search breadth (default: the index's; never below the number of candidates).
	// A remote vector backend uses its collection's own.
	Ef int
	// Tokens selects where candidate image tokens come from (default DefaultTokens).
	Tokens TokenStrategy
	// CacheDir is the token cache folder (default: "tokens/<namespace>" beside the store
	// file). CacheBudget caps its bytes (default rerank.DefaultCacheBudget, 1 GiB).
	CacheDir    string
	CacheBudget int64
	// Source, when set, supplies candidate tokens instead of Tokens' choice (a test seam, or a
	// cache shared with the indexer).
	Source rerank.Source
	// CopyDir is the folder of the indexer's model-resolution copies (indexer.TokensCopies),
	// which a recompute of a candidate's tokens reads before its original (default:
	// library.CopyDir beside the store file, where the indexer writes them). A candidate without
	// a copy there costs one failed open, then its original is read.
	CopyDir string
	// Thumb returns the path of a stored thumbnail of an image content, the fallback when
	// neither the copy nor the original file of a candidate can be read (library.ThumbPath of
	// the data dir). Nil: none.
	Thumb func(sha [32]byte) string
	// RerankBatch is the number of ITM pairs per call (default rerank.DefaultBatch).
	RerankBatch int
	// Workers decode candidate files in parallel for TokensRecompute (default GOMAXPROCS).
	Workers int
	// DecodeCaps caps the query images Decode reads (zero fields: the encoder's defaults, the
	// indexer's caps for a photo library). A server sets far smaller ones for uploads.
	DecodeCaps encoder.ImageOptions
	// Logger receives warnings (candidates whose files are gone). Nil: silent.
	Logger *slog.Logger
	// Now is the clock of the timings (default time.Now); a test seam.
	Now func() time.Time
}

// Float returns a pointer to v, for Options.MinScore and the queries' MinScore.
func Float(v float64) *float64 { return &v }

// Errors. Errors returned by this package wrap one of these, or the store's and encoder's
// sentinels (store.ErrModelMismatch, store.ErrNotFound, store.ErrBackend when a remote vector
// backend cannot answer, encoder.ErrUnsupportedImage, encoder.ErrNoITM), with the context that
// explains them.
var (
	// ErrInput: a query parameter is malformed or out of range (blank text, K, limit, offset).
	ErrInput = errors.New("searcher: invalid query")
)

// errPrefix heads the message of every error this package returns, once.
const errPrefix = "searcher: "

// withContext adds context to an error of this package without repeating its prefix: the
// message reads "searcher: CONTEXT: CAUSE". errors.Is and errors.As see the cause.
func withContext(err error, format string, a ...any) error {
	return &contextError{context: fmt.Sprintf(format, a...), err: err}
}

type contextError struct {
	context string
	err     error
}

func (e *contextError) Error() string {
	return errPrefix + e.context + ": " + strings.TrimPrefix(e.err.Error(), errPrefix)
}

func (e *contextError) Unwrap() error { return e.err }
