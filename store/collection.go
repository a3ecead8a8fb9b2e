package store

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

var (
	bucketVec  = []byte("vec")
	bucketNode = []byte("node")
	keyGraph   = []byte("graph")
)

// collection is one persisted HNSW graph (image contents or texts) in its
// own bucket: graph state, vector chunks and one value per node.
type collection struct {
	name      []byte
	idx       *hnsw.Index
	chunk     int // vectors per chunk value
	persisted int // slots whose vectors are on disk
}

// chunkLen picks the vectors per chunk so a chunk value plus bbolt's page
// and element headers fills 16 whole 4 KiB pages: 63 vectors at d=256
// (1.6% overhead; 64 would spill into a 17th page, 6%).
func chunkLen(dim int) int { return max(1, (16*4096-64)/(4*dim)) }

// graphState is the value under keyGraph.
type graphState struct {
	slots, entry uint32
	maxLevel     int32
	m            uint8
	chunk        uint32
}

func (g graphState) encode() []byte {
	b := make([]byte, 0, 17)
	b = binary.LittleEndian.AppendUint32(b, g.slots)
	b = binary.LittleEndian.AppendUint32(b, g.entry)
	b = binary.LittleEndian.AppendUint32(b, uint32(g.maxLevel))
	b = append(b, g.m)
	return binary.LittleEndian.AppendUint32(b, g.chunk)
}

func decodeGraphState(b []byte) (graphState, error) {
	if len(b) != 17 {
		return graphState{}, fmt.Errorf("graph state: %d bytes: %w", len(b), ErrCorrupt)
	}
	g := graphState{
		slots:    binary.LittleEndian.Uint32(b),
		entry:    binary.LittleEndian.Uint32(b[4:]),
		maxLevel: int32(binary.LittleEndian.Uint32(b[8:])),
		m:        b[12],
		chunk:    binary.LittleEndian.Uint32(b[13:]),
	}
	if g.m < 2 || g.m > 127 || g.chunk == 0 || g.chunk > 1<<16 || g.slots > 1<<31 {
		return graphState{}, fmt.Errorf("graph state %+v out of range: %w", g, ErrCorrupt)
	}
	return g, nil
}

// createCollection makes the empty buckets of a new collection.
func createCollection(parent *bolt.Bucket, name []byte, dim int, o hnsw.Options) error {
	b, err := parent.CreateBucket(name)
	if err != nil {
		return err
	}
	for _, n := range [][]byte{bucketVec, bucketNode} {
		if _, err := b.CreateBucket(n); err != nil {
			return err
		}
	}
	m := hnsw.New(dim, o).Options().M
	g := graphState{maxLevel: -1, m: uint8(m), chunk: uint32(chunkLen(dim))}
	return b.Put(keyGraph, g.encode())
}

// loadCollection reads a collection straight into a new index: vectors
// chunk by chunk into the flat slice, then every node. Nothing is
// re-inserted.
func loadCollection(parent *bolt.Bucket, name []byte, dim int, o hnsw.Options) (*collection, error) {
	b := parent.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("collection %s missing: %w", name, ErrCorrupt)
	}
	g, err := decodeGraphState(b.Get(keyGraph))
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", name, err)
	}
	vb, nb := b.Bucket(bucketVec), b.Bucket(bucketNode)
	if vb == nil || nb == nil {
		return nil, fmt.Errorf("collection %s: buckets missing: %w", name, ErrCorrupt)
	}
	o.M = int(g.m)
	c := &collection{name: name, idx: hnsw.New(dim, o), chunk: int(g.chunk), persisted: int(g.slots)}
	n := int(g.slots)
	vecs := c.idx.BeginLoad(n)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vecs))), len(vecs)*4)
	rowBytes := 4 * dim
	want := 0
	cur := vb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		from := want * c.chunk
		if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != want || from >= n {
			return nil, fmt.Errorf("collection %s: unexpected vector chunk %x: %w", name, k, ErrCorrupt)
		}
		to := min(n, from+c.chunk)
		if len(v) != (to-from)*rowBytes {
			return nil, fmt.Errorf("collection %s: chunk %d has %d bytes, want %d: %w",
				name, want, len(v), (to-from)*rowBytes, ErrCorrupt)
		}
		copyLE(raw[from*rowBytes:to*rowBytes], v)
		want++
	}
	if want*c.chunk < n {
		return nil, fmt.Errorf("collection %s: %d vector chunks for %d slots: %w", name, want, n, ErrCorrupt)
	}
	cur = nb.Cursor()
	s := 0
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != s || s >= n {
			return nil, fmt.Errorf("collection %s: unexpected node key %x: %w", name, k, ErrCorrupt)
		}
		if err := c.idx.LoadNode(uint32(s), v); err != nil {
			return nil, fmt.Errorf("collection %s: %v: %w", name, err, ErrCorrupt)
		}
		s++
	}
	if err := c.idx.EndLoad(g.entry, int(g.maxLevel)); err != nil {
		return nil, fmt.Errorf("collection %s: %v: %w", name, err, ErrCorrupt)
	}
	return c, nil
}

// copyLE copies little-endian float32 bytes into dst (the byte view of a
// float32 slice).
func copyLE(dst, src []byte) {
	if nativeLE {
		copy(dst, src)
		return
	}
	for i := 0; i+4 <= len(src); i += 4 {
		binary.NativeEndian.PutUint32(dst[i:], binary.LittleEndian.Uint32(src[i:]))
	}
}

var nativeLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// save writes what changed since the last save into b: vector chunks from
// the first unsaved slot on, dirty nodes, and the graph state. It returns
// the slot count to record as persisted once the transaction commits.
func (c *collection) save(parent *bolt.Bucket) (int, error) {
	b := parent.Bucket(c.name)
	vb, nb := b.Bucket(bucketVec), b.Bucket(bucketNode)
	packed(vb, nb)
	n := c.idx.Slots()
	for ch := c.persisted / c.chunk; ch*c.chunk < n; ch++ {
		from, to := ch*c.chunk, min(n, (ch+1)*c.chunk)
		if err := vb.Put(u32key(uint32(ch)), c.idx.AppendVectors(nil, from, to)); err != nil {
			return 0, err
		}
	}
	for _, s := range c.idx.Dirty() {
		if err := nb.Put(u32key(s), c.idx.MarshalNode(nil, s)); err != nil {
			return 0, err
		}
	}
	entry, level := c.idx.Entry()
	g := graphState{slots: uint32(n), entry: entry, maxLevel: int32(level),
		m: uint8(c.idx.Options().M), chunk: uint32(c.chunk)}
	return n, b.Put(keyGraph, g.encode())
}

// rewrite replaces the collection's buckets with the full index (after
// Compact renumbered the slots).
func (c *collection) rewrite(parent *bolt.Bucket) (int, error) {
	b := parent.Bucket(c.name)
	for _, n := range [][]byte{bucketVec, bucketNode} {
		if err := b.DeleteBucket(n); err != nil {
			return 0, err
		}
		if _, err := b.CreateBucket(n); err != nil {
			return 0, err
		}
	}
	c.persisted = 0
	return c.save(parent)
}
