package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketNSMeta = []byte("meta")
	collImages   = []byte("img")
	collTexts    = []byte("txt")

	keyModel  = []byte("model")
	keyDim    = []byte("dim")
	keyBundle = []byte("bundle")
)

// Namespace holds the embeddings of one model: an HNSW graph over image
// contents and one over texts. Obtain it with DB.Namespace. It is safe for
// concurrent use, like its DB.
type Namespace struct {
	db    *DB
	name  string
	model ModelInfo
	img   *collection
	txt   *collection

	images imageIndex // the image vectors: img's graph, or a remote Backend's collection
}

// Name returns the namespace name.
func (ns *Namespace) Name() string { return ns.name }

// Model returns the model the namespace holds embeddings of.
func (ns *Namespace) Model() ModelInfo { return ns.model }

// Len returns the number of embedded image contents (images sharing a
// content hash count once).
func (ns *Namespace) Len() int { return ns.images.len() }

// TextLen returns the number of embedded texts.
func (ns *Namespace) TextLen() int { return ns.coll(true).idx.Len() }

// coll returns the image or text collection; the pointers change only on
// reload, under db.mu.
func (ns *Namespace) coll(text bool) *collection {
	ns.db.mu.RLock()
	defer ns.db.mu.RUnlock()
	if text {
		return ns.txt
	}
	return ns.img
}

// HasContent reports whether the content id has an embedding here.
func (ns *Namespace) HasContent(contentID uint64) bool { return ns.images.has(contentID) }

// ImageVector returns a copy of the stored (normalised) embedding of an
// image content, so a stored image can be a query without its file.
func (ns *Namespace) ImageVector(contentID uint64) ([]float32, bool) {
	v, ok, err := ns.ImageVectorContext(context.Background(), contentID)
	return v, ok && err == nil
}

// ImageVectorContext is ImageVector, reporting a remote backend's failure
// (an error wrapping ErrBackend).
func (ns *Namespace) ImageVectorContext(ctx context.Context, contentID uint64) ([]float32, bool, error) {
	return ns.images.vector(ctx, contentID)
}

// Namespace opens (creating it unless o.NoCreate) the namespace for model.
// An existing namespace recorded with another model name, dimension or
// bundle hash gives ErrModelMismatch, or with o.NewOnMismatch the
// namespace "<name>@<hash prefix>". The graphs are loaded from the file,
// never rebuilt. Calling it again returns the same *Namespace.
func (db *DB) Namespace(m ModelInfo, o NamespaceOptions) (*Namespace, error) {
	if m.Name == "" || m.Dim <= 0 || m.Dim > 1<<16 {
		return nil, fmt.Errorf("namespace: model needs a name and a dimension in 1..65536, got %q/%d", m.Name, m.Dim)
	}
	name := o.Name
	if name == "" {
		name = m.Name
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil, ErrClosed
	}
	ns, err := db.openNamespace(name, m, o.NoCreate)
	if err != nil && o.NewOnMismatch && isMismatch(err) {
		h := m.BundleHash
		if len(h) > 12 {
			h = h[:12]
		}
		ns, err = db.openNamespace(name+"@"+h, m, o.NoCreate)
	}
	return ns, err
}

type mismatchError struct{ msg string }

func (e *mismatchError) Error() string { return e.msg }
func (e *mismatchError) Unwrap() error { return ErrModelMismatch }

func isMismatch(err error) bool { _, ok := err.(*mismatchError); return ok }

func (db *DB) openNamespace(name string, m ModelInfo, noCreate bool) (ns *Namespace, err error) {
	defer recoverCorrupt(&err)
	if ns := db.nss[name]; ns != nil {
		if ns.model != m {
			return nil, mismatch(name, ns.model, m)
		}
		return ns, nil
	}
	var exists bool
	err = db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNS).Bucket([]byte(name))
		if b == nil {
			return nil
		}
		exists = true
		have, err := readModel(b)
		if err != nil {
			return fmt.Errorf("namespace %q: %w", name, err)
		}
		if have != m {
			return mismatch(name, have, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !exists {
		if noCreate || db.o.ReadOnly {
			return nil, fmt.Errorf("namespace %q: %w", name, ErrNoNamespace)
		}
		err = db.update(func(tx *bolt.Tx) error {
			b, err := tx.Bucket(bucketNS).CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			mb, err := b.CreateBucket(bucketNSMeta)
			if err != nil {
				return err
			}
			for k, v := range map[string][]byte{
				string(keyModel):  []byte(m.Name),
				string(keyDim):    binary.LittleEndian.AppendUint32(nil, uint32(m.Dim)),
				string(keyBundle): []byte(m.BundleHash),
			} {
				if err := mb.Put([]byte(k), v); err != nil {
					return err
				}
			}
			if err := createCollection(b, collImages, m.Dim, db.o.Index); err != nil {
				return err
			}
			return createCollection(b, collTexts, m.Dim, db.o.Index)
		})
		if err != nil {
			return nil, fmt.Errorf("create namespace %q: %w", name, err)
		}
	}
	ns = &Namespace{db: db, name: name, model: m}
	if ns.images, err = db.backend().images(ns); err != nil {
		return nil, err
	}
	if err := ns.reload(); err != nil {
		return nil, err
	}
	if err := ns.dropOrphans(); err != nil {
		return nil, err
	}
	db.nss[name] = ns
	return ns, nil
}

func mismatch(name string, have, want ModelInfo) error {
	return &mismatchError{msg: fmt.Sprintf(
		"store: model mismatch: namespace %q holds embeddings of model %q (dim %d, bundle %q); "+
			"refusing to mix in model %q (dim %d, bundle %q): re-index into a new namespace "+
			"(NamespaceOptions.NewOnMismatch or Name)",
		name, have.Name, have.Dim, have.BundleHash, want.Name, want.Dim, want.BundleHash)}
}

func readModel(b *bolt.Bucket) (ModelInfo, error) {
	mb := b.Bucket(bucketNSMeta)
	if mb == nil {
		return ModelInfo{}, fmt.Errorf("meta missing: %w", ErrCorrupt)
	}
	d := mb.Get(keyDim)
	if len(d) != 4 {
		return ModelInfo{}, fmt.Errorf("dimension missing: %w", ErrCorrupt)
	}
	return ModelInfo{
		Name:       string(mb.Get(keyModel)),
		Dim:        int(binary.LittleEndian.Uint32(d)),
		BundleHash: string(mb.Get(keyBundle)),
	}, nil
}

// reload replaces both in-memory graphs with the committed ones.
func (ns *Namespace) reload() (err error) {
	defer recoverCorrupt(&err)
	err = ns.db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNS).Bucket([]byte(ns.name))
		if b == nil {
			return fmt.Errorf("namespace %q vanished: %w", ns.name, ErrCorrupt)
		}
		img, err := loadCollection(b, collImages, ns.model.Dim, ns.db.o.Index)
		if err != nil {
			return err
		}
		txt, err := loadCollection(b, collTexts, ns.model.Dim, ns.db.o.Index)
		if err != nil {
			return err
		}
		ns.db.mu.Lock()
		ns.img, ns.txt = img, txt
		ns.db.mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("namespace %q: %w", ns.name, err)
	}
	return nil
}

// dropOrphans deletes embeddings whose content or text was deleted while
// this namespace was not open.
func (ns *Namespace) dropOrphans() error {
	db := ns.db
	var imgs, txts []uint64
	db.mu.RLock()
	for _, cid := range ns.img.idx.IDs() {
		if cid >= uint64(len(db.contents)) || len(db.contents[cid]) == 0 {
			imgs = append(imgs, cid)
		}
	}
	db.mu.RUnlock()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTexts)
		for _, id := range ns.txt.idx.IDs() {
			if tb.Get(u64key(id)) == nil {
				txts = append(txts, id)
			}
		}
		return nil
	})
	if err != nil || len(imgs)+len(txts) == 0 || db.o.ReadOnly {
		return err // read-only: searches skip ids without a record; the next writer drops them
	}
	for _, id := range imgs {
		_ = ns.img.idx.Delete(id)
	}
	for _, id := range txts {
		_ = ns.txt.idx.Delete(id)
	}
	return db.commit(func(*bolt.Tx) error { return nil }, []*Namespace{ns})
}

// commit runs fn and saves the touched namespaces' graphs in one bbolt
// transaction. If it fails, the in-memory graphs are reloaded from the
// file so memory never runs ahead of disk. Caller holds db.wmu.
func (db *DB) commit(fn func(tx *bolt.Tx) error, touched []*Namespace) error {
	type saved struct {
		c *collection
		n int
	}
	var done []saved
	err := db.update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		for _, ns := range touched {
			b := tx.Bucket(bucketNS).Bucket([]byte(ns.name))
			for _, c := range []*collection{ns.img, ns.txt} {
				n, err := c.save(b)
				if err != nil {
					return err
				}
				done = append(done, saved{c, n})
			}
		}
		return nil
	})
	if err != nil {
		for _, ns := range touched {
			if rerr := ns.reload(); rerr != nil {
				return fmt.Errorf("%w (and reloading namespace %q failed: %v)", err, ns.name, rerr)
			}
		}
		return err
	}
	for _, s := range done {
		s.c.persisted = s.n
	}
	return nil
}

// Compact rebuilds both graphs without tombstones and rewrites them in one
// transaction.
func (ns *Namespace) Compact() error {
	db := ns.db
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return ErrClosed
	}
	ns.img.idx.Compact()
	ns.txt.idx.Compact()
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNS).Bucket([]byte(ns.name))
		for _, c := range []*collection{ns.img, ns.txt} {
			if _, err := c.rewrite(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if rerr := ns.reload(); rerr != nil {
			return fmt.Errorf("compact %q: %w (reload: %v)", ns.name, err, rerr)
		}
		return fmt.Errorf("compact %q: %w", ns.name, err)
	}
	ns.img.persisted, ns.txt.persisted = ns.img.idx.Slots(), ns.txt.idx.Slots()
	return nil
}
