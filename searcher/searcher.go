package searcher

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// Searcher answers queries over one store namespace with one model. It is safe for concurrent
// use by multiple goroutines; it does not own the DB or the model (close them after it).
type Searcher struct {
	db   *store.DB
	m    *encoder.Model
	info store.ModelInfo
	o    Options // defaults filled in
	rr   *rerank.Model
	src  rerank.Source
	log  *slog.Logger

	slabs slabs // candidate token buffers, reused across queries

	mu sync.Mutex
	ns *store.Namespace // nil until the indexer has created it
}

// New returns a searcher over db's namespace for model m, identified in the store by info (as
// the indexer identifies it: library.ModelInfo of the bundle). A namespace recorded with another
// model gives an error wrapping store.ErrModelMismatch; a missing one is not an error (queries
// answer "nothing indexed yet" until the indexer creates it).
func New(db *store.DB, m *encoder.Model, info store.ModelInfo, o Options) (*Searcher, error) {
	if db == nil || m == nil {
		return nil, errors.New("searcher: need a store and a model")
	}
	if info.Name == "" || info.Dim != m.Manifest.EmbeddingDim {
		return nil, fmt.Errorf("searcher: model info %q dim %d does not describe model %s (dim %d)",
			info.Name, info.Dim, m.Manifest.Name, m.Manifest.EmbeddingDim)
	}
	o, err := o.withDefaults(m)
	if err != nil {
		return nil, err
	}
	s := &Searcher{db: db, m: m, info: info, o: o, log: o.Logger}
	if o.Namespace == "" {
		s.o.Namespace = s.info.Name
	}
	if o.CopyDir == "" {
		s.o.CopyDir = library.CopyDir(filepath.Dir(db.Path()), s.o.Namespace, s.info)
	}
	if m.HasITM() {
		if s.rr, err = rerank.New(m, rerank.Options{Batch: o.RerankBatch}); err != nil {
			return nil, err
		}
	}
	if _, err := s.namespace(); err != nil {
		return nil, err
	}
	s.src = o.Source
	if s.src == nil && m.HasITM() {
		rc := rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: o.Workers})
		s.src = rc
		if o.Tokens == TokensCache {
			dir := o.CacheDir
			if dir == "" {
				dir = library.TokenDir(filepath.Dir(db.Path()), s.o.Namespace, s.info)
			}
			c, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: dir, TokenLen: m.Vision.TokenLen(),
				Budget: o.CacheBudget, Fill: rc, Logger: o.Logger})
			if err != nil {
				return nil, fmt.Errorf("searcher: %w", err)
			}
			s.src = c
		}
	}
	return s, nil
}

func (o Options) withDefaults(m *encoder.Model) (Options, error) {
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	if o.K < 1 || o.K > MaxK || o.Limit < 1 || o.Limit > MaxLimit {
		return o, fmt.Errorf("%w: default k %d (1..%d) or limit %d (1..%d)", ErrInput, o.K, MaxK, o.Limit, MaxLimit)
	}
	if o.MinScore == nil {
		o.MinScore = Float(m.Manifest.MatchThreshold())
	}
	if o.Rank == "" {
		o.Rank = RankITM
		if r, err := ParseRank(m.Manifest.Scores.Rank); err == nil {
			o.Rank = r
		}
	}
	if _, err := ParseRank(string(o.Rank)); err != nil {
		return o, err
	}
	if o.Tokens == "" {
		o.Tokens = DefaultTokens
	}
	if _, err := ParseTokenStrategy(string(o.Tokens)); err != nil {
		return o, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Model is the searcher's model.
func (s *Searcher) Model() *encoder.Model { return s.m }

// Info is the store identity of the searcher's model.
func (s *Searcher) Info() store.ModelInfo { return s.info }

// Source is where candidate image tokens come from (nil for a dual encoder).
func (s *Searcher) Source() rerank.Source { return s.src }

// namespace returns the namespace, looking it up again while it does not exist yet.
func (s *Searcher) namespace() (*store.Namespace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ns != nil {
		return s.ns, nil
	}
	ns, err := s.db.Namespace(s.info, store.NamespaceOptions{Name: s.o.Namespace, NoCreate: true})
	switch {
	case errors.Is(err, store.ErrNoNamespace):
		return nil, nil
	case errors.Is(err, store.ErrModelMismatch):
		return nil, fmt.Errorf("searcher: the index %s was built with another model than %s (dim %d); "+
			"search with the indexing model or re-index: %w", s.db.Path(), s.info.Name, s.info.Dim, err)
	case err != nil:
		return nil, fmt.Errorf("searcher: %w", err)
	}
	s.ns = ns
	return ns, nil
}

// Decode reads an uploaded or local image with Options.DecodeCaps and the model's orientation
// rule. Undecodable input gives an error wrapping encoder.ErrUnsupportedImage (or
// encoder.ErrTooLarge).
func (s *Searcher) Decode(r io.Reader) (image.Image, error) {
	img, err := s.m.Preprocessor().DecodeWith(r, s.o.DecodeCaps)
	if err != nil {
		return nil, fmt.Errorf("searcher: query image: %w", err)
	}
	return img, nil
}

// TokenCache returns the token cache the searcher reads candidates' tokens from, nil when it
// recomputes them (TokensRecompute, a Source of the caller's, or a model without an ITM head).
// An indexer in the same process fills the same cache (indexer.Options.TokenCache).
func (s *Searcher) TokenCache() *rerank.TokenCache {
	c, _ := s.src.(*rerank.TokenCache)
	return c
}
