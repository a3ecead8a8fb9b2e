package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/glimpse-search/glimpse/store/weaviate"
)

var (
	_ Backend          = (*weaviateBackend)(nil)
	_ imageIndex       = (*weaviateImages)(nil)
	_ vectorCollection = (*weaviate.Collection)(nil)
)

// vectorCollection is what the Weaviate backend needs of one collection:
// *weaviate.Collection, or in tests a fake that fails on demand.
type vectorCollection interface {
	Put(ctx context.Context, objs []weaviate.Object) error
	Delete(ctx context.Context, ids []uint64) error
	Search(ctx context.Context, vec []float32, k int, f *weaviate.Filter) ([]weaviate.Hit, error)
	Vector(ctx context.Context, id uint64, consistency string) ([]float32, bool, error)
	Count(ctx context.Context) (int, error)
	IDs(ctx context.Context, after uint64, limit int, vectors bool) ([]uint64, [][]float32, error)
	Ping(ctx context.Context) error
}

// weaviateBackend keeps each namespace's image vectors in a Weaviate
// collection named after the library (a random id kept in the bbolt file)
// and the namespace, so two libraries never share one.
type weaviateBackend struct {
	c   BackendConfig
	log *slog.Logger
	// open returns the collection of a class (a test seam).
	open  func(class, description string, dim int) (vectorCollection, error)
	probe vectorCollection // for Ping: never creates a class
}

func newWeaviateBackend(c BackendConfig, o BackendOptions) (*weaviateBackend, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &weaviateBackend{c: c, log: o.Logger}
	b.open = func(class, desc string, dim int) (vectorCollection, error) {
		return weaviate.Open(weaviate.Options{Hosts: c.Hosts, GRPCHosts: c.GRPCHosts, TLS: c.TLS, APIKey: o.APIKey,
			Class: class, Description: desc, Dim: dim, Replicas: c.Replicas, Shards: c.Shards,
			Consistency: c.Consistency, Timeout: o.Timeout, Ef: c.Ef, Logger: o.Logger})
	}
	var err error
	if b.probe, err = b.open(c.Prefix+"_Probe", "", 1); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBackendURL, err)
	}
	return b, nil
}

func (b *weaviateBackend) String() string { return b.c.String() }
func (b *weaviateBackend) Close() error   { return nil }

func (b *weaviateBackend) Ping(ctx context.Context) error {
	if err := b.probe.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBackend, b, err)
	}
	return nil
}

func (b *weaviateBackend) images(ns *Namespace) (imageIndex, error) {
	if err := ns.db.bindBackend(SchemeWeaviate, b.String()); err != nil {
		return nil, err
	}
	lib, err := ns.db.libraryID()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(lib + "\x00" + ns.name))
	class := b.c.Prefix + "_" + hex.EncodeToString(sum[:8])
	m := ns.model
	desc := fmt.Sprintf("glimpse library %s namespace %q: model %s dim %d bundle %s", lib, ns.name, m.Name, m.Dim, m.BundleHash)
	coll, err := b.open(class, desc, m.Dim)
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w: %v", ns.name, ErrBackend, err)
	}
	return &weaviateImages{ns: ns, coll: coll, log: b.log.With("class", class)}, nil
}

var keyLibrary = []byte("library")

// libraryID returns the random id of this database, creating it once.
func (db *DB) libraryID() (string, error) {
	var id string
	_ = db.bolt.View(func(tx *bolt.Tx) error { id = string(tx.Bucket(bucketMeta).Get(keyLibrary)); return nil })
	if id != "" {
		return id, nil
	}
	err := db.update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if v := m.Get(keyLibrary); len(v) > 0 {
			id = string(v)
			return nil
		}
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		id = hex.EncodeToString(b[:])
		return m.Put(keyLibrary, []byte(id))
	})
	if err != nil {
		return "", fmt.Errorf("library id: %w", err)
	}
	return id, nil
}

// weaviateImages is a namespace's image vectors in a Weaviate collection:
// one object per image (not per content), keyed by the image id, holding
// the path and capture time for filters. The in-memory record table
// answers which contents are embedded: every committed record has its
// object (see Backend).
type weaviateImages struct {
	ns   *Namespace
	coll vectorCollection
	log  *slog.Logger
}

func (w *weaviateImages) len() int {
	db := w.ns.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.nContents
}

func (w *weaviateImages) has(contentID uint64) bool {
	db := w.ns.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	return contentID < uint64(len(db.contents)) && len(db.contents[contentID]) > 0
}

// holder returns an image of a content (its object holds the content's
// vector).
func (w *weaviateImages) holder(contentID uint64) (uint64, bool) {
	db := w.ns.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	if contentID < uint64(len(db.contents)) && len(db.contents[contentID]) > 0 {
		return db.contents[contentID][0], true
	}
	return 0, false
}

func (w *weaviateImages) vector(ctx context.Context, contentID uint64) ([]float32, bool, error) {
	id, ok := w.holder(contentID)
	if !ok {
		return nil, false, nil
	}
	v, ok, err := w.coll.Vector(ctx, id, "")
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrBackend, err)
	}
	return v, ok, nil
}

func (w *weaviateImages) search(ctx context.Context, vec []float32, k, _ int, f *ImageFilter, exact bool) ([]ImageHit, error) {
	if k <= 0 {
		return nil, nil
	}
	if exact {
		return w.bruteForce(ctx, vec, k, f)
	}
	var wf *weaviate.Filter
	if !f.empty() {
		wf = &weaviate.Filter{From: f.From, To: f.To, PathPrefix: f.PathPrefix}
	}
	db := w.ns.db
	// Orphan objects (a record deleted, its object not yet) and Match are
	// checked here, so ask again for more when they cut the page short.
	for limit := k; ; limit *= 2 {
		res, err := w.coll.Search(ctx, vec, limit, wf)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBackend, err)
		}
		hits := make([]ImageHit, 0, min(k, len(res)))
		db.mu.RLock()
		if db.closed {
			db.mu.RUnlock()
			return nil, ErrClosed
		}
		for _, h := range res {
			if len(hits) == k {
				break
			}
			if h.ID < uint64(len(db.imgs)) && db.imgs[h.ID].live && (f == nil || f.Match == nil || f.Match(h.ID)) {
				hits = append(hits, ImageHit{ImageID: h.ID, Score: h.Score})
			}
		}
		db.mu.RUnlock()
		if len(hits) == k || len(res) < limit || limit >= 4*k+64 {
			return hits, nil
		}
	}
}

// bruteForce scores every stored vector (ground truth for tests and
// evaluations; it reads the whole collection).
func (w *weaviateImages) bruteForce(ctx context.Context, vec []float32, k int, f *ImageFilter) ([]ImageHit, error) {
	q := normalised(vec)
	db := w.ns.db
	var hits []ImageHit
	for after := uint64(0); ; {
		ids, vecs, err := w.coll.IDs(ctx, after, 1000, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBackend, err)
		}
		db.mu.RLock()
		for i, id := range ids {
			if id >= uint64(len(db.imgs)) || !db.imgs[id].live || (!f.empty() && !f.pass(id, &db.imgs[id])) {
				continue
			}
			hits = append(hits, ImageHit{ImageID: id, Score: dot(q, normalised(vecs[i]))})
		}
		db.mu.RUnlock()
		if len(ids) < 1000 {
			break
		}
		after = ids[len(ids)-1]
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	return hits[:min(k, len(hits))], nil
}

// stage writes the batch's objects before its records commit: for each
// image the batch leaves (the last item of a path), its vector (from the
// batch, or for a content embedded already from an image holding it) and
// its filter properties. Put is an idempotent upsert, retried by the
// collection; if it fails the transaction is aborted and any objects
// already written are overwritten by the next batch, which reuses the ids,
// or removed by Reconcile.
func (w *weaviateImages) stage(ctx context.Context, items []stagedImage) error {
	last := make(map[uint64]int, len(items))
	byContent := map[uint64][]float32{}
	for i, it := range items {
		last[it.rec.ID] = i
		if it.vec != nil && byContent[it.rec.ContentID] == nil {
			byContent[it.rec.ContentID] = it.vec
		}
	}
	objs := make([]weaviate.Object, 0, len(last))
	for i, it := range items {
		if last[it.rec.ID] != i {
			continue
		}
		v := byContent[it.rec.ContentID]
		if v == nil { // embedded already: copy it from an image holding it, before this batch overwrites any
			holder, ok := w.holder(it.rec.ContentID)
			if !ok {
				return fmt.Errorf("add images: %s: content %d has no image to copy its vector from: %w",
					it.rec.Path, it.rec.ContentID, ErrNoVector)
			}
			got, ok, err := w.coll.Vector(ctx, holder, "")
			if err != nil {
				return fmt.Errorf("add images: %s: %w: %v", it.rec.Path, ErrBackend, err)
			}
			if !ok {
				return fmt.Errorf("add images: %s: image %d holds no vector in %s (run Reconcile): %w",
					it.rec.Path, holder, w.ns.db.Backend(), ErrNoVector)
			}
			v = got
			byContent[it.rec.ContentID] = v
		}
		objs = append(objs, weaviate.Object{ID: it.rec.ID, Vector: normalised(v), Path: it.rec.Path, Captured: it.rec.Captured})
	}
	if err := w.coll.Put(ctx, objs); err != nil {
		return fmt.Errorf("add images: %w: %v", ErrBackend, err)
	}
	return nil
}

func (w *weaviateImages) deleted(ctx context.Context, ids []uint64) {
	if err := w.coll.Delete(ctx, ids); err != nil {
		w.log.Warn("vectors of deleted images stay in the backend until Reconcile", "images", len(ids), "err", err.Error())
	}
}

// reconcile compares the object count with the live records; when they
// differ it walks every object id: objects without a record are deleted,
// records whose object is missing even at consistency ALL are reported
// as lost. Caller holds db.wmu.
func (w *weaviateImages) reconcile(ctx context.Context) (Reconciled, error) {
	db := w.ns.db
	r := Reconciled{Records: db.ImageCount()}
	n, err := w.coll.Count(ctx)
	if err != nil {
		return r, fmt.Errorf("%w: %v", ErrBackend, err)
	}
	r.Vectors = n
	if n == r.Records {
		return r, nil
	}
	seen := map[uint64]bool{}
	var orphans []uint64
	for after := uint64(0); ; {
		ids, _, err := w.coll.IDs(ctx, after, 5000, false)
		if err != nil {
			return r, fmt.Errorf("%w: %v", ErrBackend, err)
		}
		db.mu.RLock()
		for _, id := range ids {
			if id < uint64(len(db.imgs)) && db.imgs[id].live {
				seen[id] = true
			} else {
				orphans = append(orphans, id)
			}
		}
		db.mu.RUnlock()
		if len(ids) < 5000 {
			break
		}
		after = ids[len(ids)-1]
	}
	if err := w.coll.Delete(ctx, orphans); err != nil {
		return r, fmt.Errorf("delete %d orphan vectors: %w: %v", len(orphans), ErrBackend, err)
	}
	r.Orphans = len(orphans)
	var missing []uint64
	db.mu.RLock()
	for id := range db.imgs {
		if db.imgs[id].live && !seen[uint64(id)] {
			missing = append(missing, uint64(id))
		}
	}
	db.mu.RUnlock()
	for _, id := range missing {
		_, ok, err := w.coll.Vector(ctx, id, weaviate.All)
		if err != nil {
			return r, fmt.Errorf("check image %d at consistency ALL: %w: %v", id, ErrBackend, err)
		}
		if ok {
			continue // a replica behind; ALL repaired it
		}
		rec, err := db.Image(id)
		if err != nil {
			return r, err
		}
		r.Lost = append(r.Lost, rec)
	}
	if r.Orphans > 0 || len(r.Lost) > 0 {
		w.log.Warn("reconciled vectors with records", "records", r.Records, "vectors", r.Vectors,
			"orphans_deleted", r.Orphans, "lost", len(r.Lost))
	}
	return r, nil
}

func (w *weaviateImages) each(ctx context.Context, fn func(uint64, []float32) error) error {
	db := w.ns.db
	for after := uint64(0); ; {
		ids, vecs, err := w.coll.IDs(ctx, after, 1000, true)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBackend, err)
		}
		for i, id := range ids {
			db.mu.RLock()
			live := id < uint64(len(db.imgs)) && db.imgs[id].live
			db.mu.RUnlock()
			if live {
				if err := fn(id, vecs[i]); err != nil {
					return err
				}
			}
		}
		if len(ids) < 1000 {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// normalised returns a unit-length copy of v (v itself when it is zero).
func normalised(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	out := slices.Clone(v)
	inv := float32(1 / math.Sqrt(n))
	for i := range out {
		out[i] *= inv
	}
	return out
}
