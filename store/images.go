package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// NewImage is one image to add: its record and, unless its content is
// already embedded in the namespace, its vector.
type NewImage struct {
	Record ImageRecord
	Vector []float32
}

// AddImages stores a batch of images and their vectors in ONE bbolt
// transaction and returns their ids in batch order. An image whose path is
// already stored is updated in place (same id, Added kept). Images with the
// same SHA256 share one content id and one embedding: Vector may be nil
// when the content already has an embedding here (or earlier in the
// batch), otherwise ErrNoVector. A content no image refers to any more
// loses its embeddings in every open namespace.
func (ns *Namespace) AddImages(batch []NewImage) ([]uint64, error) {
	return ns.AddImagesContext(context.Background(), batch)
}

// AddImagesContext is AddImages; ctx bounds a remote Backend's writes.
// With a remote backend the vectors are written first and the records
// committed after (see Backend): an error means none of the batch's
// records are stored, and the batch may be sent again.
func (ns *Namespace) AddImagesContext(ctx context.Context, batch []NewImage) ([]uint64, error) {
	for i := range batch {
		if batch[i].Record.Path == "" {
			return nil, fmt.Errorf("add images: item %d: empty path", i)
		}
		if v := batch[i].Vector; v != nil && len(v) != ns.model.Dim {
			return nil, fmt.Errorf("add images: %s: %d values, model %q has %d: %w",
				batch[i].Record.Path, len(v), ns.model.Name, ns.model.Dim, ErrDimension)
		}
	}
	db := ns.db
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil, ErrClosed
	}
	now := time.Now().UTC()
	recs := make([]ImageRecord, len(batch))
	var dropped []dropInfo // records replaced by this batch
	err := db.commit(func(tx *bolt.Tx) error {
		bs, err := buckets(tx, bucketMeta, bucketImages, bucketPaths, bucketContents)
		if err != nil {
			return err
		}
		meta, images, paths, contents := bs[0], bs[1], bs[2], bs[3]
		packed(images, paths) // contents is keyed by hash, in random order: bbolt's default fill suits it
		// phase 1: resolve ids and content ids; validate before touching the graph
		fresh := map[string]uint64{} // paths new in this batch
		seen := map[uint64]bool{}    // ids already resolved in this batch
		embedded := map[uint64]bool{}
		for i := range batch {
			r := batch[i].Record
			if v := paths.Get([]byte(r.Path)); v != nil {
				old, err := getImage(images, binary.BigEndian.Uint64(v))
				if err != nil {
					return err
				}
				r.ID, r.Added = old.ID, old.Added
				if !seen[r.ID] {
					dropped = append(dropped, dropInfo{old.ID, old.ContentID, old.SHA256})
				}
			} else if id, ok := fresh[r.Path]; ok {
				r.ID = id
			} else {
				if r.ID, err = nextID(meta, keyNextImage); err != nil {
					return err
				}
				fresh[r.Path] = r.ID
			}
			if r.Added.IsZero() {
				r.Added = now
			}
			if v := contents.Get(r.SHA256[:]); v != nil {
				r.ContentID = binary.BigEndian.Uint64(v)
			} else {
				if r.ContentID, err = nextID(meta, keyNextContent); err != nil {
					return err
				}
				if err := contents.Put(r.SHA256[:], u64key(r.ContentID)); err != nil {
					return err
				}
			}
			if batch[i].Vector != nil {
				embedded[r.ContentID] = true
			} else if !embedded[r.ContentID] && !ns.images.has(r.ContentID) {
				return fmt.Errorf("add images: %s: content %d has no embedding in %q: %w",
					r.Path, r.ContentID, ns.name, ErrNoVector)
			}
			recs[i] = r
			seen[r.ID] = true
		}
		// phase 2: vectors (the backend's), then records
		staged := make([]stagedImage, len(batch))
		for i := range batch {
			staged[i] = stagedImage{rec: &recs[i], vec: batch[i].Vector}
		}
		if err := ns.images.stage(ctx, staged); err != nil {
			return err
		}
		for i := range batch {
			r := &recs[i]
			if err := images.Put(u64key(r.ID), encodeImage(r)); err != nil {
				return err
			}
			if err := paths.Put([]byte(r.Path), u64key(r.ID)); err != nil {
				return err
			}
		}
		return db.dropOrphanContents(tx, contents, dropped, final(recs))
	}, db.openNamespaces())
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	for _, d := range dropped {
		db.dropImage(d.id)
	}
	for _, r := range final(recs) {
		db.setImage(&r)
	}
	db.mu.Unlock()
	db.recontented(ctx, ns, dropped, recs)
	ids := make([]uint64, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	return ids, nil
}

// final returns recs without the earlier duplicates of an id (the same
// path added twice in one batch: the last one wins).
func final(recs []ImageRecord) []ImageRecord {
	last := make(map[uint64]int, len(recs))
	for i, r := range recs {
		last[r.ID] = i
	}
	out := make([]ImageRecord, 0, len(last))
	for i, r := range recs {
		if last[r.ID] == i {
			out = append(out, r)
		}
	}
	return out
}

type dropInfo struct {
	id, content uint64
	sha         [32]byte
}

// dropOrphanContents removes the contents whose last image was replaced or
// deleted (dropped) and that no record in kept refers to: their hash entry
// and their embedding in every open namespace. Caller holds db.wmu.
func (db *DB) dropOrphanContents(tx *bolt.Tx, contents *bolt.Bucket, dropped []dropInfo, kept []ImageRecord) error {
	refs := map[uint64]int{}
	db.mu.RLock()
	for _, d := range dropped {
		if _, ok := refs[d.content]; !ok && d.content < uint64(len(db.contents)) {
			refs[d.content] = len(db.contents[d.content])
		}
	}
	db.mu.RUnlock()
	for _, d := range dropped {
		refs[d.content]--
	}
	for _, r := range kept {
		refs[r.ContentID]++
	}
	for _, d := range dropped {
		if refs[d.content] > 0 {
			continue
		}
		refs[d.content] = 1 // once
		if err := contents.Delete(d.sha[:]); err != nil {
			return err
		}
		for _, ns := range db.nss {
			if ns.img.idx.Contains(d.content) {
				_ = ns.img.idx.Delete(d.content)
			}
		}
	}
	return nil
}

func (db *DB) openNamespaces() []*Namespace {
	out := make([]*Namespace, 0, len(db.nss))
	for _, ns := range db.nss {
		out = append(out, ns)
	}
	return out
}

func getImage(images *bolt.Bucket, id uint64) (ImageRecord, error) {
	v := images.Get(u64key(id))
	if v == nil {
		return ImageRecord{}, fmt.Errorf("image %d: %w", id, ErrNotFound)
	}
	return decodeImage(id, v)
}

// DeleteImage removes an image record. When no other image shares its
// content, the content's embeddings are deleted from every open namespace
// (namespaces opened later drop them at open).
func (db *DB) DeleteImage(id uint64) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return ErrClosed
	}
	err := db.commit(func(tx *bolt.Tx) error {
		bs, err := buckets(tx, bucketImages, bucketPaths, bucketContents)
		if err != nil {
			return err
		}
		r, err := getImage(bs[0], id)
		if err != nil {
			return err
		}
		if err := bs[0].Delete(u64key(id)); err != nil {
			return err
		}
		if err := bs[1].Delete([]byte(r.Path)); err != nil {
			return err
		}
		return db.dropOrphanContents(tx, bs[2], []dropInfo{{id, r.ContentID, r.SHA256}}, nil)
	}, db.openNamespaces())
	if err != nil {
		return fmt.Errorf("delete image %d: %w", id, err)
	}
	db.mu.Lock()
	db.dropImage(id)
	db.mu.Unlock()
	for _, ns := range db.nss {
		ns.images.deleted(context.Background(), []uint64{id})
	}
	return nil
}

// Image returns the record of image id, or ErrNotFound.
func (db *DB) Image(id uint64) (r ImageRecord, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		r, err = getImage(tx.Bucket(bucketImages), id)
		return err
	})
	return r, err
}

// ImagesByID returns the records of ids in one read transaction, in ids'
// order: one transaction instead of one per record, which matters when a
// query reads a hundred candidates. errs is nil when every record was
// read; otherwise errs[i] (wrapping ErrNotFound for a missing id, or
// ErrCorrupt) explains a zero recs[i]. A failed transaction sets every
// entry's error.
func (db *DB) ImagesByID(ids []uint64) (recs []ImageRecord, errs []error) {
	return readByID(db, bucketImages, "image", ids, decodeImage)
}

// ImageByPath returns the record stored for path, or ErrNotFound. The
// indexer compares Size and ModTime to skip unchanged files.
func (db *DB) ImageByPath(path string) (r ImageRecord, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPaths).Get([]byte(path))
		if v == nil {
			return fmt.Errorf("image %q: %w", path, ErrNotFound)
		}
		if len(v) != 8 {
			return fmt.Errorf("path %q: bad id: %w", path, ErrCorrupt)
		}
		r, err = getImage(tx.Bucket(bucketImages), binary.BigEndian.Uint64(v))
		return err
	})
	return r, err
}

// ContentID returns the content id already assigned to a file hash, so an
// indexer can reuse an embedding (Namespace.HasContent) instead of
// computing it again.
func (db *DB) ContentID(sha [32]byte) (id uint64, ok bool, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketContents).Get(sha[:]); len(v) == 8 {
			id, ok = binary.BigEndian.Uint64(v), true
		}
		return nil
	})
	return id, ok, err
}

// Images returns up to limit records with ids greater than after, in id
// order, and the cursor for the next page (0 when done).
func (db *DB) Images(after uint64, limit int) (out []ImageRecord, next uint64, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketImages).Cursor()
		for k, v := c.Seek(u64key(after + 1)); k != nil; k, v = c.Next() {
			if len(out) == limit {
				next = out[len(out)-1].ID
				return nil
			}
			r, err := decodeImage(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, next, err
}

// view runs a read transaction, turning bbolt page panics into ErrCorrupt.
func (db *DB) view(fn func(tx *bolt.Tx) error) (err error) {
	defer recoverCorrupt(&err)
	return db.bolt.View(fn)
}
