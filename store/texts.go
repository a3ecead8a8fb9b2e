package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// NewText is one text to add with its vector (nil: record only).
type NewText struct {
	Record TextRecord
	Vector []float32
}

// AddTexts stores a batch of texts (new ids) and their vectors in one
// transaction and returns the ids in batch order.
func (ns *Namespace) AddTexts(batch []NewText) ([]uint64, error) {
	for i := range batch {
		if v := batch[i].Vector; v != nil && len(v) != ns.model.Dim {
			return nil, fmt.Errorf("add texts: item %d: %d values, model %q has %d: %w",
				i, len(v), ns.model.Name, ns.model.Dim, ErrDimension)
		}
	}
	db := ns.db
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil, ErrClosed
	}
	ids := make([]uint64, len(batch))
	err := db.commit(func(tx *bolt.Tx) error {
		bs, err := buckets(tx, bucketMeta, bucketTexts)
		if err != nil {
			return err
		}
		packed(bs[1])
		for i := range batch {
			r := batch[i].Record
			if r.ID, err = nextID(bs[0], keyNextText); err != nil {
				return err
			}
			if v := batch[i].Vector; v != nil {
				if err := ns.txt.idx.Add(r.ID, v); err != nil {
					return fmt.Errorf("add texts: item %d: %w", i, err)
				}
			}
			if err := bs[1].Put(u64key(r.ID), encodeText(&r)); err != nil {
				return err
			}
			ids[i] = r.ID
		}
		return nil
	}, []*Namespace{ns})
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	db.nTexts += len(batch)
	db.mu.Unlock()
	return ids, nil
}

// DeleteText removes a text and its embeddings in every open namespace.
func (db *DB) DeleteText(id uint64) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return ErrClosed
	}
	err := db.commit(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTexts)
		if b.Get(u64key(id)) == nil {
			return ErrNotFound
		}
		for _, ns := range db.nss {
			if ns.txt.idx.Contains(id) {
				_ = ns.txt.idx.Delete(id)
			}
		}
		return b.Delete(u64key(id))
	}, db.openNamespaces())
	if err != nil {
		return fmt.Errorf("delete text %d: %w", id, err)
	}
	db.mu.Lock()
	db.nTexts--
	db.mu.Unlock()
	return nil
}

// Text returns text id, or ErrNotFound.
func (db *DB) Text(id uint64) (r TextRecord, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTexts).Get(u64key(id))
		if v == nil {
			return fmt.Errorf("text %d: %w", id, ErrNotFound)
		}
		r, err = decodeText(id, v)
		return err
	})
	return r, err
}

// TextsByID returns texts ids in one read transaction, in ids' order.
// errs is nil when every text was read; otherwise errs[i] (wrapping
// ErrNotFound for a missing id, or ErrCorrupt) explains a zero recs[i]. A
// failed transaction sets every entry's error.
func (db *DB) TextsByID(ids []uint64) (recs []TextRecord, errs []error) {
	return readByID(db, bucketTexts, "text", ids, decodeText)
}

// Texts returns up to limit texts with ids greater than after, and the
// cursor for the next page (0 when done).
func (db *DB) Texts(after uint64, limit int) (out []TextRecord, next uint64, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTexts).Cursor()
		for k, v := c.Seek(u64key(after + 1)); k != nil; k, v = c.Next() {
			if len(out) == limit {
				next = out[len(out)-1].ID
				return nil
			}
			r, err := decodeText(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, next, err
}
