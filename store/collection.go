package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

var (
	bucketVec = []byte("vec")
	bucketAdj = []byte("adj")
	bucketLog = []byte("log")
	keyGraph  = []byte("graph")
)

const (
	// nodesPerChunk is how many nodes one adjacency chunk value holds
	// (~28 KB at M=16): big enough that bbolt's rounding of each leaf to
	// whole pages wastes a few percent, small enough to rewrite often.
	nodesPerChunk = 256
	// sweepRatio: for every node a write logs, it rewrites this many
	// nodes' worth of old adjacency chunks, so the log stays below about
	// 1/sweepRatio of the graph.
	sweepRatio = 4
	// logPartBytes caps one log value, so no write needs a long run of
	// contiguous free pages.
	logPartBytes = 64 << 10
	// nodeAvgBytes sizes encoding buffers: a layer-0 node with ~24 links.
	nodeAvgBytes = 112
)

// collection is one persisted HNSW graph (image contents or texts) in its
// own bucket:
//
//	graph -> graphState
//	vec / chunk(be32) -> vectors of slots [chunk*c.chunk, ...), float32 LE
//	adj / chunk(be32) -> adjacency chunk: the nodes of slots
//	                     [chunk*c.nodeChunk, ...) (see adjHeader)
//	log / seq(be64) part(be32) -> log part: (slot uint32 LE, node) pairs
//
// A write (one bbolt transaction) appends the new vectors, rewrites the
// adjacency chunks that hold new slots, and puts the other changed nodes
// in a log under its sequence number, so a batch costs about what it
// changed instead of rewriting every chunk it touched (a batch of 1000
// inserts changes ~20k nodes spread over the whole graph). To bound the
// log, each write also rewrites sweepRatio times as many nodes of old
// chunks, round robin; a log entry is dropped once every chunk was
// rewritten after it. Loading reads the chunks, then replays the log
// entries newer than their chunk: the graph is never rebuilt.
type collection struct {
	name      []byte
	idx       *hnsw.Index
	chunk     int      // vectors per vector chunk
	nodeChunk int      // nodes per adjacency chunk
	persisted int      // slots on disk
	seq       uint64   // writes of this collection so far
	sweep     int      // next old adjacency chunk the sweep rewrites
	chunkSeq  []uint64 // per adjacency chunk: the write that stored it
	logSeqs   []uint64 // writes with log parts on disk, ascending
}

// chunkLen picks the vectors per chunk so that two chunk values plus
// bbolt's page and element headers fill 64 whole 4 KiB pages (bbolt keeps
// at least two values per leaf): 127 vectors at d=256, 0.8% overhead.
func chunkLen(dim int) int { return max(1, (32*4096-28)/(4*dim)) }

// graphState is the value under keyGraph.
type graphState struct {
	slots, entry uint32
	maxLevel     int32
	m            uint8
	chunk        uint32 // vectors per vector chunk
	nodeChunk    uint32 // nodes per adjacency chunk
	seq          uint64 // writes so far
	sweep        uint32 // next adjacency chunk to sweep
}

const graphStateLen = 33

func (g graphState) encode() []byte {
	b := make([]byte, 0, graphStateLen)
	b = binary.LittleEndian.AppendUint32(b, g.slots)
	b = binary.LittleEndian.AppendUint32(b, g.entry)
	b = binary.LittleEndian.AppendUint32(b, uint32(g.maxLevel))
	b = append(b, g.m)
	b = binary.LittleEndian.AppendUint32(b, g.chunk)
	b = binary.LittleEndian.AppendUint32(b, g.nodeChunk)
	b = binary.LittleEndian.AppendUint64(b, g.seq)
	return binary.LittleEndian.AppendUint32(b, g.sweep)
}

func decodeGraphState(b []byte) (graphState, error) {
	if len(b) != graphStateLen {
		return graphState{}, fmt.Errorf("graph state: %d bytes: %w", len(b), ErrCorrupt)
	}
	le := binary.LittleEndian
	g := graphState{
		slots:     le.Uint32(b),
		entry:     le.Uint32(b[4:]),
		maxLevel:  int32(le.Uint32(b[8:])),
		m:         b[12],
		chunk:     le.Uint32(b[13:]),
		nodeChunk: le.Uint32(b[17:]),
		seq:       le.Uint64(b[21:]),
		sweep:     le.Uint32(b[29:]),
	}
	if g.m < 2 || g.m > 127 || g.chunk == 0 || g.chunk > 1<<16 || g.nodeChunk == 0 || g.nodeChunk > 1<<16 ||
		g.slots > 1<<31 || g.sweep > g.slots || (g.slots > 0 && g.seq == 0) {
		return graphState{}, fmt.Errorf("graph state %+v out of range: %w", g, ErrCorrupt)
	}
	return g, nil
}

// Adjacency chunk value: a header, then the node encodings (package hnsw)
// of its slots back to back.
//
//	seq    uint64  the write that stored it
//	count  uint32  nodes: min(nodeChunk, slots - chunk*nodeChunk)
const adjHeader = 12

func logKey(seq uint64, part uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(make([]byte, 0, 12), seq), part)
}

// createCollection makes the empty buckets of a new collection.
func createCollection(parent *bolt.Bucket, name []byte, dim int, o hnsw.Options) error {
	b, err := parent.CreateBucket(name)
	if err != nil {
		return err
	}
	for _, n := range [][]byte{bucketVec, bucketAdj, bucketLog} {
		if _, err := b.CreateBucket(n); err != nil {
			return err
		}
	}
	m := hnsw.New(dim, o).Options().M
	g := graphState{maxLevel: -1, m: uint8(m), chunk: uint32(chunkLen(dim)), nodeChunk: nodesPerChunk}
	return b.Put(keyGraph, g.encode())
}

// loadCollection reads a collection straight into a new index: vectors
// chunk by chunk into the flat slice, the adjacency chunks, then the log
// entries newer than their chunk. Nothing is re-inserted.
func loadCollection(parent *bolt.Bucket, name []byte, dim int, o hnsw.Options) (*collection, error) {
	b := parent.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("collection %s missing: %w", name, ErrCorrupt)
	}
	g, err := decodeGraphState(b.Get(keyGraph))
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", name, err)
	}
	vb, ab, lb := b.Bucket(bucketVec), b.Bucket(bucketAdj), b.Bucket(bucketLog)
	if vb == nil || ab == nil || lb == nil {
		return nil, fmt.Errorf("collection %s: buckets missing: %w", name, ErrCorrupt)
	}
	o.M = int(g.m)
	n := int(g.slots)
	c := &collection{name: name, idx: hnsw.New(dim, o), chunk: int(g.chunk), nodeChunk: int(g.nodeChunk),
		persisted: n, seq: g.seq, sweep: int(g.sweep)}
	if err := c.loadVectors(vb, c.idx.BeginLoad(n), dim, n); err != nil {
		return nil, fmt.Errorf("collection %s: %w", name, err)
	}
	if err := c.loadGraph(ab, lb, n, g.seq); err != nil {
		return nil, fmt.Errorf("collection %s: %w", name, err)
	}
	if err := c.idx.EndLoad(g.entry, int(g.maxLevel)); err != nil {
		return nil, fmt.Errorf("collection %s: %v: %w", name, err, ErrCorrupt)
	}
	return c, nil
}

func (c *collection) loadVectors(vb *bolt.Bucket, vecs []float32, dim, n int) error {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vecs))), len(vecs)*4)
	rowBytes := 4 * dim
	want := 0
	cur := vb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		from := want * c.chunk
		if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != want || from >= n {
			return fmt.Errorf("unexpected vector chunk %x: %w", k, ErrCorrupt)
		}
		to := min(n, from+c.chunk)
		if len(v) != (to-from)*rowBytes {
			return fmt.Errorf("chunk %d has %d bytes, want %d: %w", want, len(v), (to-from)*rowBytes, ErrCorrupt)
		}
		copyLE(raw[from*rowBytes:to*rowBytes], v)
		want++
	}
	if want*c.chunk < n {
		return fmt.Errorf("%d vector chunks for %d slots: %w", want, n, ErrCorrupt)
	}
	return nil
}

func (c *collection) loadGraph(ab, lb *bolt.Bucket, n int, maxSeq uint64) error {
	chunks := (n + c.nodeChunk - 1) / c.nodeChunk
	c.chunkSeq = make([]uint64, chunks)
	want := 0
	cur := ab.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != want || want >= chunks {
			return fmt.Errorf("unexpected adjacency chunk %x: %w", k, ErrCorrupt)
		}
		seq, err := loadAdjChunk(c.idx, want, c.nodeChunk, n, maxSeq, v)
		if err != nil {
			return err
		}
		c.chunkSeq[want] = seq
		want++
	}
	if want != chunks {
		return fmt.Errorf("%d adjacency chunks for %d slots: %w", want, n, ErrCorrupt)
	}
	cur = lb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 12 {
			return fmt.Errorf("log key %x: %w", k, ErrCorrupt)
		}
		seq := binary.BigEndian.Uint64(k)
		if seq == 0 || seq > maxSeq {
			return fmt.Errorf("log write %d after the last write %d: %w", seq, maxSeq, ErrCorrupt)
		}
		if len(c.logSeqs) == 0 || c.logSeqs[len(c.logSeqs)-1] != seq {
			c.logSeqs = append(c.logSeqs, seq)
		}
		if err := loadLogPart(c.idx, seq, c.nodeChunk, n, c.chunkSeq, v); err != nil {
			return err
		}
	}
	return nil
}

// loadAdjChunk decodes adjacency chunk ch of an index of n slots being
// loaded into idx and returns the write that stored it.
func loadAdjChunk(idx *hnsw.Index, ch, nodeChunk, n int, maxSeq uint64, v []byte) (uint64, error) {
	if len(v) < adjHeader {
		return 0, fmt.Errorf("adjacency chunk %d: short header: %w", ch, ErrCorrupt)
	}
	seq, count := binary.LittleEndian.Uint64(v), int(binary.LittleEndian.Uint32(v[8:]))
	if seq == 0 || seq > maxSeq {
		return 0, fmt.Errorf("adjacency chunk %d: write %d after the last write %d: %w", ch, seq, maxSeq, ErrCorrupt)
	}
	from := ch * nodeChunk
	if want := min(nodeChunk, n-from); count != want {
		return 0, fmt.Errorf("adjacency chunk %d: %d nodes, want %d: %w", ch, count, want, ErrCorrupt)
	}
	p := v[adjHeader:]
	for s := from; s < from+count; s++ {
		k, err := idx.LoadNode(uint32(s), p)
		if err != nil {
			return 0, fmt.Errorf("adjacency chunk %d: %v: %w", ch, err, ErrCorrupt)
		}
		p = p[k:]
	}
	if len(p) != 0 {
		return 0, fmt.Errorf("adjacency chunk %d: %d trailing bytes: %w", ch, len(p), ErrCorrupt)
	}
	return seq, nil
}

// loadLogPart applies the entries of a log part of write seq whose chunk
// was stored before seq, and validates the others.
func loadLogPart(idx *hnsw.Index, seq uint64, nodeChunk, n int, chunkSeq []uint64, v []byte) error {
	if len(v) == 0 {
		return fmt.Errorf("log write %d: empty part: %w", seq, ErrCorrupt)
	}
	for len(v) > 0 {
		if len(v) < 4 {
			return fmt.Errorf("log write %d: truncated entry: %w", seq, ErrCorrupt)
		}
		s := binary.LittleEndian.Uint32(v)
		if int(s) >= n {
			return fmt.Errorf("log write %d: slot %d of %d: %w", seq, s, n, ErrCorrupt)
		}
		var k int
		var err error
		if chunkSeq[int(s)/nodeChunk] < seq {
			k, err = idx.LoadNode(s, v[4:])
		} else {
			k, err = idx.CheckNode(s, v[4:])
		}
		if err != nil {
			return fmt.Errorf("log write %d: %v: %w", seq, err, ErrCorrupt)
		}
		v = v[4+k:]
	}
	return nil
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

// appendOnly packs buckets whose keys only ever grow (chunk numbers, log
// sequence numbers) full: bbolt splits their pages at 100% instead of 50%.
func appendOnly(bs ...*bolt.Bucket) {
	for _, b := range bs {
		b.FillPercent = 1.0
	}
}

// save writes what changed since the last save into parent's bucket of
// the collection and returns the slot count now persisted. On error the
// caller reloads the collection (its in-memory state may run ahead).
func (c *collection) save(parent *bolt.Bucket) (int, error) { return c.write(parent, false) }

// rewrite replaces the collection's buckets with the full index (after
// Compact renumbered the slots).
func (c *collection) rewrite(parent *bolt.Bucket) (int, error) {
	b := parent.Bucket(c.name)
	for _, n := range [][]byte{bucketVec, bucketAdj, bucketLog} {
		if err := b.DeleteBucket(n); err != nil {
			return 0, err
		}
		if _, err := b.CreateBucket(n); err != nil {
			return 0, err
		}
	}
	c.persisted, c.sweep, c.chunkSeq, c.logSeqs = 0, 0, nil, nil
	return c.write(parent, true)
}

func (c *collection) write(parent *bolt.Bucket, force bool) (int, error) {
	n := c.idx.Slots()
	dirty := c.idx.Dirty()
	if n == c.persisted && len(dirty) == 0 && !force {
		return n, nil
	}
	b := parent.Bucket(c.name)
	if b == nil {
		return 0, fmt.Errorf("collection %s missing: %w", c.name, ErrCorrupt)
	}
	vb, ab, lb := b.Bucket(bucketVec), b.Bucket(bucketAdj), b.Bucket(bucketLog)
	if vb == nil || ab == nil || lb == nil {
		return 0, fmt.Errorf("collection %s: buckets missing: %w", c.name, ErrCorrupt)
	}
	appendOnly(vb, ab, lb)
	c.seq++
	for ch := c.persisted / c.chunk; ch*c.chunk < n; ch++ {
		from, to := ch*c.chunk, min(n, (ch+1)*c.chunk)
		if err := vb.Put(u32key(uint32(ch)), c.idx.AppendVectors(nil, from, to)); err != nil {
			return 0, err
		}
	}
	if err := c.writeGraph(ab, lb, n, dirty); err != nil {
		return 0, err
	}
	c.persisted = n
	entry, level := c.idx.Entry()
	g := graphState{slots: uint32(n), entry: entry, maxLevel: int32(level), m: uint8(c.idx.Options().M),
		chunk: uint32(c.chunk), nodeChunk: uint32(c.nodeChunk), seq: c.seq, sweep: uint32(c.sweep)}
	return n, b.Put(keyGraph, g.encode())
}

// writeGraph rewrites the adjacency chunks holding new slots and the
// sweep's share of old ones, logs the other dirty nodes, and drops the
// log writes every chunk has caught up with.
func (c *collection) writeGraph(ab, lb *bolt.Bucket, n int, dirty []uint32) error {
	a := c.nodeChunk
	chunks := (n + a - 1) / a
	tail := c.persisted / a // chunks from tail on hold new slots
	for len(c.chunkSeq) < chunks {
		c.chunkSeq = append(c.chunkSeq, 0)
	}
	rewrite := make([]bool, chunks)
	for ch := tail; ch < chunks; ch++ {
		rewrite[ch] = true
	}
	old := 0
	for _, s := range dirty {
		if int(s)/a < tail {
			old++
		}
	}
	if tail > 0 && (old > 0 || len(c.logSeqs) > 0) {
		k := min(tail, max(1, (sweepRatio*old+a-1)/a))
		for range k {
			if c.sweep >= tail {
				c.sweep = 0
			}
			rewrite[c.sweep] = true
			c.sweep++
		}
	}
	for ch, ok := range rewrite {
		if !ok {
			continue
		}
		// a fresh value each time: bbolt keeps the slice until the commit
		from, to := ch*a, min(n, (ch+1)*a)
		v := binary.LittleEndian.AppendUint64(make([]byte, 0, adjHeader+(to-from)*(nodeAvgBytes)), c.seq)
		v = binary.LittleEndian.AppendUint32(v, uint32(to-from))
		if err := ab.Put(u32key(uint32(ch)), c.idx.AppendNodes(v, from, to)); err != nil {
			return err
		}
		c.chunkSeq[ch] = c.seq
	}
	var part []byte
	parts := uint32(0)
	flush := func() error {
		if len(part) == 0 {
			return nil
		}
		err := lb.Put(logKey(c.seq, parts), part)
		part, parts = nil, parts+1
		return err
	}
	for _, s := range dirty {
		if rewrite[int(s)/a] {
			continue
		}
		part = binary.LittleEndian.AppendUint32(part, s)
		part = c.idx.MarshalNode(part, s)
		if len(part) >= logPartBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if parts > 0 {
		c.logSeqs = append(c.logSeqs, c.seq)
	}
	return c.dropLog(lb)
}

// dropLog deletes the log writes that every adjacency chunk was
// rewritten after (or in).
func (c *collection) dropLog(lb *bolt.Bucket) error {
	if len(c.logSeqs) == 0 {
		return nil
	}
	low := c.seq
	if len(c.chunkSeq) > 0 {
		low = slices.Min(c.chunkSeq)
	}
	var keys [][]byte
	cur := lb.Cursor()
	for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k) <= low; k, _ = cur.Next() {
		keys = append(keys, slices.Clone(k))
	}
	for _, k := range keys {
		if err := lb.Delete(k); err != nil {
			return err
		}
	}
	i, _ := slices.BinarySearch(c.logSeqs, low+1)
	c.logSeqs = c.logSeqs[i:]
	return nil
}
