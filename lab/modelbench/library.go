package modelbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/store"
)

// poolSource serves real image tokens for synthetic records: content c gets pool image c%n. It
// fills the token cache in place of the vision encoder (the cache is what a query reads).
type poolSource struct{ tokens [][]float32 }

var _ rerank.Source = (*poolSource)(nil)

func (p *poolSource) Tokens(_ context.Context, refs []rerank.ImageRef, _ *rerank.Stats) ([][]float32, []error) {
	out := make([][]float32, len(refs))
	for i, r := range refs {
		out[i] = slices.Clone(p.tokens[int(r.ContentID)%len(p.tokens)])
	}
	return out, nil
}

// library is a store of n images with random unit vectors (the ANN cost depends on n and the
// dimension, not on what the vectors mean) and, for models with an ITM head, an fp16 token cache
// filled from a pool of real image tokens: a query's stages are those of a real index.
type library struct {
	db *store.DB
	s  *searcher.Searcher
}

func newLibrary(dir string, m *encoder.Model, n int, pool [][]float32) (*library, error) {
	db, err := store.Open(filepath.Join(dir, "glimpse.db"), store.Options{NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("modelbench: %w", err)
	}
	lib := &library{db: db}
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	info := store.ModelInfo{Name: m.Manifest.Name, Dim: m.Manifest.EmbeddingDim, BundleHash: "modelbench"}
	ns, err := db.Namespace(info, store.NamespaceOptions{})
	if err != nil {
		return nil, fmt.Errorf("modelbench: %w", err)
	}
	r := rand.New(rand.NewPCG(7, 11))
	batch := make([]store.NewImage, n)
	for i := range batch {
		v := make([]float32, info.Dim)
		var s float64
		for j := range v {
			v[j] = float32(r.NormFloat64())
			s += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(s))
		}
		var sha [32]byte
		binary.BigEndian.PutUint64(sha[:], uint64(i)+1)
		batch[i] = store.NewImage{Vector: v, Record: store.ImageRecord{Path: fmt.Sprintf("/bench/%d.jpg", i),
			SHA256: sha, Width: 640, Height: 480}}
	}
	ids, err := ns.AddImages(batch)
	if err != nil {
		return nil, fmt.Errorf("modelbench: %w", err)
	}
	o := searcher.Options{}
	if m.HasITM() {
		cache, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: filepath.Join(dir, "tokens"),
			TokenLen: m.Vision.TokenLen(), Fill: &poolSource{pool}})
		if err != nil {
			return nil, fmt.Errorf("modelbench: %w", err)
		}
		if err := fill(cache, db, ids); err != nil {
			return nil, err
		}
		o.Source = cache
	}
	if lib.s, err = searcher.New(db, m, info, o); err != nil {
		return nil, fmt.Errorf("modelbench: %w", err)
	}
	ok = true
	return lib, nil
}

// fill writes every image's tokens into the cache, so that each timed query reads a warm cache
// (as a query on an indexed library does) without a warm-up query first.
func fill(cache *rerank.TokenCache, db *store.DB, ids []uint64) error {
	refs := make([]rerank.ImageRef, len(ids))
	for i, id := range ids {
		r, err := db.Image(id)
		if err != nil {
			return fmt.Errorf("modelbench: %w", err)
		}
		refs[i] = rerank.ImageRef{ContentID: r.ContentID, Path: r.Path}
	}
	var st rerank.Stats
	if _, errs := cache.Tokens(context.Background(), refs, &st); errs != nil {
		return fmt.Errorf("modelbench: fill the token cache: %w", errors.Join(errs...))
	}
	return nil
}

// query runs one text -> image query reranking the top k (every candidate kept: min score 0).
func (l *library) query(ctx context.Context, text string, k int) (*searcher.ImageResult, error) {
	res, err := l.s.Images(ctx, searcher.ImageQuery{Text: text,
		Params: searcher.Params{K: k, Limit: 20, MinScore: searcher.Float(0)}})
	if err != nil {
		return nil, fmt.Errorf("modelbench: query k=%d: %w", k, err)
	}
	return res, nil
}

func (l *library) Close() error { return l.db.Close() }
