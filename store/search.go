package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

// ImageFilter restricts an image search. Zero fields do not restrict.
type ImageFilter struct {
	From, To   time.Time // capture time in [From, To); images without one fail a set bound
	PathPrefix string    // e.g. "/photos/2023/" for a folder
	// Match, when set, is also required; it runs during graph traversal,
	// so it must be cheap and safe for concurrent use. (A remote Backend
	// applies it to the hits it returns, asking for more when it drops some.)
	Match func(imageID uint64) bool
}

func (f *ImageFilter) empty() bool {
	return f == nil || (f.From.IsZero() && f.To.IsZero() && f.PathPrefix == "" && f.Match == nil)
}

func (f *ImageFilter) pass(id uint64, im *imageInfo) bool {
	if !f.From.IsZero() && (im.captured == 0 || im.captured < f.From.UnixNano()) {
		return false
	}
	if !f.To.IsZero() && (im.captured == 0 || im.captured >= f.To.UnixNano()) {
		return false
	}
	if f.PathPrefix != "" && !strings.HasPrefix(im.path, f.PathPrefix) {
		return false
	}
	return f.Match == nil || f.Match(id)
}

// ImageHit is one image search result. Images sharing a content share its
// score.
type ImageHit struct {
	ImageID uint64
	Score   float32 // inner product with the normalised query
}

// TextHit is one text search result.
type TextHit struct {
	TextID uint64
	Score  float32
}

// SearchImages returns up to k images closest to vec (any length-Dim
// vector; it is normalised), best first. ef <= 0 uses the index default.
// The filter runs on the in-memory record table during traversal; filters
// passing few images make the search exact.
func (ns *Namespace) SearchImages(vec []float32, k, ef int, f *ImageFilter) ([]ImageHit, error) {
	return ns.SearchImagesContext(context.Background(), vec, k, ef, f)
}

// SearchImagesContext is SearchImages on the namespace's Backend: a
// remote one honours ctx, filters in the database (PathPrefix, From, To)
// and ignores ef (the collection's own is used); its failures wrap
// ErrBackend.
func (ns *Namespace) SearchImagesContext(ctx context.Context, vec []float32, k, ef int, f *ImageFilter) ([]ImageHit, error) {
	if len(vec) != ns.model.Dim {
		return nil, fmt.Errorf("search: %d values, model %q has %d: %w", len(vec), ns.model.Name, ns.model.Dim, ErrDimension)
	}
	return ns.images.search(ctx, vec, k, ef, f, false)
}

// SearchImagesExact is SearchImages by brute force over every vector
// (ground truth, tiny libraries).
func (ns *Namespace) SearchImagesExact(vec []float32, k int, f *ImageFilter) ([]ImageHit, error) {
	if len(vec) != ns.model.Dim {
		return nil, fmt.Errorf("search: %d values, model %q has %d: %w", len(vec), ns.model.Name, ns.model.Dim, ErrDimension)
	}
	return ns.images.search(context.Background(), vec, k, 0, f, true)
}

func (ns *Namespace) searchImages(vec []float32, k, ef int, f *ImageFilter, exact bool) ([]ImageHit, error) {
	if len(vec) != ns.model.Dim {
		return nil, fmt.Errorf("search: %d values, model %q has %d: %w", len(vec), ns.model.Name, ns.model.Dim, ErrDimension)
	}
	db := ns.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	var pred func(uint64) bool
	if !f.empty() {
		pred = func(cid uint64) bool {
			if cid >= uint64(len(db.contents)) {
				return false
			}
			for _, id := range db.contents[cid] {
				if f.pass(id, &db.imgs[id]) {
					return true
				}
			}
			return false
		}
	}
	var res []hnsw.Result
	var err error
	if exact {
		res, err = ns.img.idx.SearchExact(vec, k, pred)
	} else {
		res, err = ns.img.idx.Search(vec, k, ef, pred)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	hits := make([]ImageHit, 0, len(res))
	for _, r := range res {
		if r.ID >= uint64(len(db.contents)) {
			continue
		}
		for _, id := range db.contents[r.ID] {
			if len(hits) < k && (f.empty() || f.pass(id, &db.imgs[id])) {
				hits = append(hits, ImageHit{ImageID: id, Score: r.Score})
			}
		}
	}
	return hits, nil
}

// SearchTexts returns up to k texts closest to vec, best first.
func (ns *Namespace) SearchTexts(vec []float32, k, ef int) ([]TextHit, error) {
	if len(vec) != ns.model.Dim {
		return nil, fmt.Errorf("search texts: %d values, model %q has %d: %w", len(vec), ns.model.Name, ns.model.Dim, ErrDimension)
	}
	c := ns.coll(true)
	res, err := c.idx.Search(vec, k, ef, nil)
	if err != nil {
		return nil, fmt.Errorf("search texts: %w", err)
	}
	hits := make([]TextHit, len(res))
	for i, r := range res {
		hits[i] = TextHit{TextID: r.ID, Score: r.Score}
	}
	return hits, nil
}
