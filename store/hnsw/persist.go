package hnsw

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Node encoding (little-endian, fixed-width fields), variable length:
//
//	flags  uint8   bit 0: deleted
//	level  uint8   0..15
//	id     uint64
//	then for each layer 0..level:
//	  count  uint8   at most 2M on layer 0, M above
//	  count x uint32 neighbour slots
//
// Only the neighbours in use are stored, so a node takes 10 + (level+1) +
// 4*links bytes. Encodings are self-delimiting: the owner may store many
// back to back (package store keeps 64 per value) and LoadNode reports
// where one ends.
const nodeHeader = 10

// Dirty returns the slots whose node encoding changed since the previous
// call (new nodes, changed neighbour lists, deletions), in ascending order,
// and forgets them.
func (x *Index) Dirty() []uint32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := x.dirty
	x.dirty = nil
	for _, s := range out {
		x.dirtyMark[s] = false
	}
	slices.Sort(out)
	return out
}

// Entry returns the entry-point slot and the top level (-1 when empty).
func (x *Index) Entry() (slot uint32, maxLevel int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.entry, x.maxLevel
}

// MarshalNode appends the encoding of slot s to dst.
func (x *Index) MarshalNode(dst []byte, s uint32) []byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.appendNode(dst, s)
}

// AppendNodes appends the encodings of slots [from, to), back to back.
func (x *Index) AppendNodes(dst []byte, from, to int) []byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for s := from; s < to; s++ {
		dst = x.appendNode(dst, uint32(s))
	}
	return dst
}

func (x *Index) appendNode(dst []byte, s uint32) []byte {
	var flags byte
	if x.dead[s] {
		flags = 1
	}
	dst = append(dst, flags, x.levels[s])
	dst = binary.LittleEndian.AppendUint64(dst, x.ids[s])
	for l := 0; l <= int(x.levels[s]); l++ {
		nb := x.links(s, l)
		dst = append(dst, byte(len(nb)))
		for _, n := range nb {
			dst = binary.LittleEndian.AppendUint32(dst, n)
		}
	}
	return dst
}

// AppendVectors appends the float32 vectors of slots [from, to) to dst,
// little-endian.
func (x *Index) AppendVectors(dst []byte, from, to int) []byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, v := range x.vecs[from*x.dim : to*x.dim] {
		dst = binary.LittleEndian.AppendUint32(dst, mathFloat32bits(v))
	}
	return dst
}

// BeginLoad empties the index and sizes it for n slots. The caller fills
// the returned n*dim slice with the stored (normalised) vectors, calls
// LoadNode for every slot (again for a slot whose newer encoding
// supersedes the first), then EndLoad.
func (x *Index) BeginLoad(n int) []float32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ids = make([]uint64, n)
	x.vecs = make([]float32, n*x.dim)
	x.levels = make([]uint8, n)
	x.dead = make([]bool, n)
	x.l0 = make([]uint32, n*(x.m0+1))
	x.upper = make([][]uint32, n)
	x.dirtyMark = make([]bool, n)
	x.dirty = nil
	x.slotOf = make(map[uint64]uint32, n)
	x.live, x.entry, x.maxLevel = 0, 0, -1
	x.quant, x.codes, x.csum = nil, nil, nil
	return x.vecs
}

// LoadNode decodes the node encoding at the start of data into slot s
// (between BeginLoad and EndLoad) and returns its length; data may go on
// with other encodings. It validates the level, counts and neighbour
// slots; errors wrap ErrCorrupt. Loading a slot again replaces it.
func (x *Index) LoadNode(s uint32, data []byte) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := len(x.ids)
	if int(s) >= n {
		return 0, fmt.Errorf("node %d of %d: slot out of range: %w", s, n, ErrCorrupt)
	}
	id, flags, level, size, err := x.decodeNode(s, data, uint32(n), true)
	if err != nil {
		return 0, err
	}
	x.ids[s] = id
	x.dead[s] = flags&1 != 0
	x.levels[s] = uint8(level)
	x.dirtyMark[s] = true // marks "loaded" until EndLoad
	return size, nil
}

// decodeNode parses the encoding at the start of data and returns its
// length; when store is set it writes the neighbour lists into slot s.
func (x *Index) decodeNode(s uint32, data []byte, n uint32, store bool) (id uint64, flags byte, level, size int, err error) {
	bad := func(what string) error {
		return fmt.Errorf("node %d: %s: %w", s, what, ErrCorrupt)
	}
	if len(data) < nodeHeader {
		return 0, 0, 0, 0, bad("short header")
	}
	flags, level = data[0], int(data[1])
	if flags&^1 != 0 {
		return 0, 0, 0, 0, bad("unknown flags")
	}
	if level >= maxLevels {
		return 0, 0, 0, 0, bad("level too high")
	}
	id = binary.LittleEndian.Uint64(data[2:])
	p := data[nodeHeader:]
	if store {
		if level == 0 {
			x.upper[s] = nil
		} else if len(x.upper[s]) != level*(x.o.M+1) {
			x.upper[s] = make([]uint32, level*(x.o.M+1))
		}
	}
	for l := 0; l <= level; l++ {
		if len(p) < 1 {
			return 0, 0, 0, 0, bad("missing layer")
		}
		c := int(p[0])
		p = p[1:]
		if c > x.maxDegree(l) || len(p) < 4*c {
			return 0, 0, 0, 0, bad("bad neighbour count")
		}
		var b []uint32
		if store {
			b = x.block(s, l)
			b[0] = uint32(c)
		}
		for i := range c {
			nb := binary.LittleEndian.Uint32(p[4*i:])
			if nb >= n || nb == s {
				return 0, 0, 0, 0, bad("neighbour out of range")
			}
			if store {
				b[1+i] = nb
			}
		}
		p = p[4*c:]
	}
	return id, flags, level, len(data) - len(p), nil
}

// EndLoad finishes a load: every slot must have been loaded, neighbours on
// layer l must exist on layer l, live ids must be unique and the entry point
// valid. On error the index is left empty.
func (x *Index) EndLoad(entry uint32, maxLevel int) (err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	defer func() {
		if err != nil {
			x.resetEmpty()
		}
	}()
	n := len(x.ids)
	for s := range n {
		if !x.dirtyMark[s] {
			return fmt.Errorf("node %d missing: %w", s, ErrCorrupt)
		}
		x.dirtyMark[s] = false
	}
	for s := range n {
		for l := 1; l <= int(x.levels[s]); l++ {
			for _, nb := range x.links(uint32(s), l) {
				if int(x.levels[nb]) < l {
					return fmt.Errorf("node %d layer %d: neighbour %d has level %d: %w",
						s, l, nb, x.levels[nb], ErrCorrupt)
				}
			}
		}
		if x.dead[s] {
			continue
		}
		if _, dup := x.slotOf[x.ids[s]]; dup {
			return fmt.Errorf("id %d stored twice: %w", x.ids[s], ErrCorrupt)
		}
		x.slotOf[x.ids[s]] = uint32(s)
		x.live++
	}
	switch {
	case n == 0 && maxLevel != -1, n > 0 && (int(entry) >= n || maxLevel < 0 ||
		maxLevel >= maxLevels || int(x.levels[entry]) != maxLevel):
		return fmt.Errorf("entry point %d level %d invalid for %d nodes: %w", entry, maxLevel, n, ErrCorrupt)
	}
	x.entry, x.maxLevel = entry, maxLevel
	if x.o.Quantize == QuantizeInt8 && n >= x.o.QuantizeTrain {
		x.trainQuant()
	}
	return nil
}

func (x *Index) resetEmpty() {
	x.ids, x.vecs, x.levels, x.dead, x.l0, x.upper = nil, nil, nil, nil, nil, nil
	x.dirtyMark, x.dirty = nil, nil
	x.slotOf = make(map[uint64]uint32)
	x.live, x.entry, x.maxLevel = 0, 0, -1
	x.quant, x.codes, x.csum = nil, nil, nil
}

// CheckNode is LoadNode without loading: it validates the encoding at the
// start of data for slot s (between BeginLoad and EndLoad) and returns its
// length.
func (x *Index) CheckNode(s uint32, data []byte) (int, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, _, _, size, err := x.decodeNode(s, data, uint32(len(x.ids)), false)
	return size, err
}

// ValidateNode checks that data starts with a well-formed node encoding
// for slot s of an index of n slots, without loading it, and returns the
// encoding's length.
func ValidateNode(o Options, s uint32, n int, data []byte) (int, error) {
	x := New(1, o)
	_, _, _, size, err := x.decodeNode(s, data, uint32(n), false)
	return size, err
}
