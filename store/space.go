package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Space breaks the database file down by what its bytes hold. Each field
// but File and Free sums the key and value bytes of its buckets.
type Space struct {
	File    int64 // file size
	Vectors int64 // float32 vector chunks, every namespace and collection
	Graph   int64 // HNSW adjacency chunks
	Log     int64 // HNSW adjacency log (changes not yet swept into chunks)
	Records int64 // image, path, content-hash and text records, meta
	Free    int64 // free pages, and pages the last write freed
}

// Live is the key and value bytes of the data: vectors, graph, log and
// records.
func (s Space) Live() int64 { return s.Vectors + s.Graph + s.Log + s.Records }

// Overhead is what the file holds beyond the data: bbolt page and element
// headers, partly filled pages, free pages and the preallocated tail.
func (s Space) Overhead() int64 { return s.File - s.Live() }

// Space walks every bucket and reports where the file's bytes go. It reads
// the whole file, so it takes about as long as opening it.
func (db *DB) Space() (s Space, err error) {
	defer recoverCorrupt(&err)
	if s.File, err = db.FileSize(); err != nil {
		return Space{}, err
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return sumBucket(&s, name, b)
		})
	})
	if err != nil {
		return Space{}, fmt.Errorf("space: %w", err)
	}
	st := db.bolt.Stats()
	s.Free = int64(st.FreePageN+st.PendingPageN) * int64(db.bolt.Info().PageSize)
	return s, nil
}

// sumBucket adds the key and value bytes under b (named name) to the
// field of s its kind belongs to.
func sumBucket(s *Space, name []byte, b *bolt.Bucket) error {
	field := &s.Records
	switch {
	case bytes.Equal(name, bucketVec):
		field = &s.Vectors
	case bytes.Equal(name, bucketAdj), bytes.Equal(name, bucketNodeV1):
		field = &s.Graph
	case bytes.Equal(name, bucketLog):
		field = &s.Log
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return sumBucket(s, k, b.Bucket(k))
		}
		*field += int64(len(k) + len(v))
		return nil
	})
}
