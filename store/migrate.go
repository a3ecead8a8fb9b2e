package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Schema 1 kept one value per node in a bucket "node" (slot(be32) ->
// node with fixed-capacity neighbour lists) and a 17-byte graph state.
// Schema 2 keeps adjacency chunks and a log (see collection). upgradeV1
// converts the graphs of every namespace in the caller's transaction; the
// vectors stay where they are.
var bucketNodeV1 = []byte("node")

const graphStateV1Len = 17

func upgradeV1(tx *bolt.Tx) error {
	nsb := tx.Bucket(bucketNS)
	meta := tx.Bucket(bucketMeta)
	if nsb == nil || meta == nil {
		return fmt.Errorf("upgrade from schema 1: buckets missing: %w", ErrCorrupt)
	}
	var names [][]byte
	err := nsb.ForEach(func(k, v []byte) error {
		if v == nil {
			names = append(names, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		b := nsb.Bucket(name)
		for _, coll := range [][]byte{collImages, collTexts} {
			cb := b.Bucket(coll)
			if cb == nil {
				return fmt.Errorf("upgrade namespace %q: collection %s missing: %w", name, coll, ErrCorrupt)
			}
			if err := upgradeCollectionV1(cb); err != nil {
				return fmt.Errorf("upgrade namespace %q collection %s from schema 1: %w", name, coll, err)
			}
		}
	}
	return meta.Put(keySchema, binary.LittleEndian.AppendUint32(nil, SchemaVersion))
}

func upgradeCollectionV1(b *bolt.Bucket) error {
	st := b.Get(keyGraph)
	if len(st) != graphStateV1Len {
		return fmt.Errorf("graph state: %d bytes: %w", len(st), ErrCorrupt)
	}
	le := binary.LittleEndian
	g := graphState{slots: le.Uint32(st), entry: le.Uint32(st[4:]), maxLevel: int32(le.Uint32(st[8:])),
		m: st[12], chunk: le.Uint32(st[13:]), nodeChunk: nodesPerChunk, seq: 1}
	if g.m < 2 || g.m > 127 {
		return fmt.Errorf("M %d: %w", g.m, ErrCorrupt)
	}
	nb := b.Bucket(bucketNodeV1)
	if nb == nil {
		return fmt.Errorf("node bucket missing: %w", ErrCorrupt)
	}
	ab, err := b.CreateBucket(bucketAdj)
	if err != nil {
		return err
	}
	if _, err := b.CreateBucket(bucketLog); err != nil {
		return err
	}
	appendOnly(ab)
	n := int(g.slots)
	var chunk []byte
	s := 0
	cur := nb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != s || s >= n {
			return fmt.Errorf("unexpected node key %x: %w", k, ErrCorrupt)
		}
		if s%nodesPerChunk == 0 {
			chunk = binary.LittleEndian.AppendUint64(nil, g.seq)
			chunk = binary.LittleEndian.AppendUint32(chunk, uint32(min(nodesPerChunk, n-s)))
		}
		if chunk, err = appendNodeV1(chunk, v, int(g.m)); err != nil {
			return fmt.Errorf("node %d: %w", s, err)
		}
		s++
		if s%nodesPerChunk == 0 || s == n {
			if err := ab.Put(u32key(uint32((s-1)/nodesPerChunk)), chunk); err != nil {
				return err
			}
		}
	}
	if s != n {
		return fmt.Errorf("%d nodes for %d slots: %w", s, n, ErrCorrupt)
	}
	if err := b.DeleteBucket(bucketNodeV1); err != nil {
		return err
	}
	return b.Put(keyGraph, g.encode())
}

// appendNodeV1 appends the schema-2 encoding of a schema-1 node: the same
// header, each layer's count and only the neighbours in use. Neighbour
// slots are checked when the graph loads.
func appendNodeV1(dst, v []byte, m int) ([]byte, error) {
	if len(v) < 10 || int(v[1]) >= 16 {
		return nil, fmt.Errorf("bad header: %w", ErrCorrupt)
	}
	dst = append(dst, v[:10]...)
	p := v[10:]
	for l := 0; l <= int(v[1]); l++ {
		capacity := m
		if l == 0 {
			capacity = 2 * m
		}
		if len(p) < 1+4*capacity || int(p[0]) > capacity {
			return nil, fmt.Errorf("layer %d: bad neighbour list: %w", l, ErrCorrupt)
		}
		c := int(p[0])
		for _, z := range p[1+4*c : 1+4*capacity] {
			if z != 0 {
				return nil, fmt.Errorf("layer %d: unused neighbour slot not zero: %w", l, ErrCorrupt)
			}
		}
		dst = append(dst, p[:1+4*c]...)
		p = p[1+4*capacity:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("trailing bytes: %w", ErrCorrupt)
	}
	return dst, nil
}
