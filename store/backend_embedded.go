package store

import (
	"context"
	"fmt"
)

var (
	_ Backend    = embeddedBackend{}
	_ imageIndex = (*embeddedImages)(nil)
)

// embeddedBackend keeps the image vectors in the bbolt file: an HNSW graph
// per namespace over image contents, persisted in the same transaction as
// the records.
type embeddedBackend struct{}

func (embeddedBackend) String() string                 { return SchemeEmbedded }
func (embeddedBackend) Ping(ctx context.Context) error { return ctx.Err() }
func (embeddedBackend) Close() error                   { return nil }

func (embeddedBackend) images(ns *Namespace) (imageIndex, error) {
	if err := ns.db.bindBackend(SchemeEmbedded, SchemeEmbedded); err != nil {
		return nil, err
	}
	return &embeddedImages{ns: ns}, nil
}

// embeddedImages is a namespace's image graph. It reads the collection
// through ns.coll, as the graph is replaced when a failed commit reloads it.
type embeddedImages struct{ ns *Namespace }

func (e *embeddedImages) len() int                  { return e.ns.coll(false).idx.Len() }
func (e *embeddedImages) has(contentID uint64) bool { return e.ns.coll(false).idx.Contains(contentID) }

func (e *embeddedImages) vector(_ context.Context, contentID uint64) ([]float32, bool, error) {
	v, ok := e.ns.coll(false).idx.Vector(contentID)
	return v, ok, nil
}

func (e *embeddedImages) search(ctx context.Context, vec []float32, k, ef int, f *ImageFilter, exact bool) ([]ImageHit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.ns.searchImages(vec, k, ef, f, exact)
}

// stage adds the batch's vectors to the graph; commit persists it with the
// records, or reloads it when the transaction fails.
func (e *embeddedImages) stage(_ context.Context, items []stagedImage) error {
	for _, it := range items {
		if it.vec != nil {
			if err := e.ns.img.idx.Add(it.rec.ContentID, it.vec); err != nil {
				return fmt.Errorf("add images: %s: %w", it.rec.Path, err)
			}
		}
	}
	return nil
}

// deleted has nothing to do: the transaction that deleted the records
// deleted the orphaned contents' vectors too.
func (e *embeddedImages) deleted(context.Context, []uint64) {}

func (e *embeddedImages) each(ctx context.Context, fn func(uint64, []float32) error) error {
	db := e.ns.db
	db.mu.RLock()
	var ids, cids []uint64
	for id, im := range db.imgs {
		if im.live {
			ids, cids = append(ids, uint64(id)), append(cids, im.content)
		}
	}
	db.mu.RUnlock()
	idx := e.ns.coll(false).idx
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if v, ok := idx.Vector(cids[i]); ok {
			if err := fn(id, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *embeddedImages) reconcile(context.Context) (Reconciled, error) {
	n := e.len()
	return Reconciled{Records: e.ns.db.ImageCount(), Vectors: n}, nil
}
