package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

func FuzzDecodeImage(f *testing.F) {
	for i := range 4 {
		r := newImage(i, nil).Record
		r.Added = time.Unix(1700000000, int64(i)).UTC()
		r.ContentID = uint64(i * 1000)
		f.Add(encodeImage(&r))
	}
	f.Add(encodeImage(&ImageRecord{}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeImage(7, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		// a decodable record re-encodes to something that decodes the same
		r2, err := decodeImage(7, encodeImage(&r))
		if err != nil || r2 != r {
			t.Fatalf("round trip: %+v vs %+v (%v)", r, r2, err)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	f.Add(encodeText(&TextRecord{Text: "a red cube left of a blue ball", Source: "caption"}))
	f.Add(encodeText(&TextRecord{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeText(1, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if r2, err := decodeText(1, encodeText(&r)); err != nil || r2 != r {
			t.Fatalf("round trip: %+v vs %+v (%v)", r, r2, err)
		}
	})
}

func FuzzGraphState(f *testing.F) {
	f.Add(graphState{slots: 100, entry: 3, maxLevel: 2, m: 16, chunk: 127, nodeChunk: 256, seq: 7, sweep: 0}.encode())
	f.Add(graphState{maxLevel: -1, m: 16, chunk: 255, nodeChunk: 64}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGraphState(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if g2, err := decodeGraphState(g.encode()); err != nil || g2 != g {
			t.Fatalf("round trip %+v %+v %v", g, g2, err)
		}
	})
}

// fuzzGraph is a small built graph for seeding the graph decoders.
func fuzzGraph(f *testing.F) *hnsw.Index {
	x := hnsw.New(8, hnsw.Options{M: 4})
	for i, v := range clustered(300, 8, 5, 12) {
		if err := x.Add(uint64(i+1), v); err != nil {
			f.Fatal(err)
		}
	}
	return x
}

func adjChunk(x *hnsw.Index, seq uint64, from, to int) []byte {
	v := binary.LittleEndian.AppendUint64(nil, seq)
	v = binary.LittleEndian.AppendUint32(v, uint32(to-from))
	return x.AppendNodes(v, from, to)
}

// FuzzAdjChunk feeds adjacency chunk values (chunk 1 of a 300-slot graph
// in chunks of 256, written at or before write 10) to the loader.
func FuzzAdjChunk(f *testing.F) {
	x := fuzzGraph(f)
	f.Add(adjChunk(x, 9, 256, 300))
	f.Add(adjChunk(x, 10, 256, 299))
	f.Add(adjChunk(x, 11, 256, 300))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		y := hnsw.New(8, x.Options())
		y.BeginLoad(300)
		seq, err := loadAdjChunk(y, 1, 256, 300, 10, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		// a chunk that loads re-encodes to itself
		if got := adjChunk(y, seq, 256, 300); !bytes.Equal(got, b) {
			t.Fatalf("round trip:\n%x\n%x", b, got)
		}
	})
}

// FuzzLogPart feeds log parts of write 5 to the loader of a 300-slot
// graph whose chunk 0 was written at 3 (entries apply) and chunk 1 at 7
// (entries are only checked).
func FuzzLogPart(f *testing.F) {
	x := fuzzGraph(f)
	var part []byte
	for _, s := range []uint32{3, 280, 17} {
		part = binary.LittleEndian.AppendUint32(part, s)
		part = x.MarshalNode(part, s)
	}
	f.Add(part)
	f.Add(part[:len(part)-1])
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		y := hnsw.New(8, x.Options())
		y.BeginLoad(300)
		err := loadLogPart(y, 5, 256, 300, []uint64{3, 7}, b)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not ErrCorrupt: %v", err)
		}
	})
}

// nodeV1 is the schema-1 encoding of a schema-2 node (m: the graph's M).
func nodeV1(v2 []byte, m int) []byte {
	out := append([]byte(nil), v2[:10]...)
	p := v2[10:]
	for l := 0; l <= int(v2[1]); l++ {
		capacity := m
		if l == 0 {
			capacity = 2 * m
		}
		c := int(p[0])
		out = append(out, p[:1+4*c]...)
		out = append(out, make([]byte, 4*(capacity-c))...)
		p = p[1+4*c:]
	}
	return out
}

// FuzzUpgradeNodeV1 feeds schema-1 node values to the converter: what it
// accepts must be one whole schema-2 node.
func FuzzUpgradeNodeV1(f *testing.F) {
	x := fuzzGraph(f)
	for _, s := range []uint32{0, 1, 150} {
		f.Add(nodeV1(x.MarshalNode(nil, s), 4))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := appendNodeV1(nil, b, 4)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		k, err := hnsw.ValidateNode(x.Options(), math.MaxUint32, math.MaxUint32, out)
		if err == nil && k != len(out) {
			t.Fatalf("converted node is %d bytes, its encoding says %d", len(out), k)
		}
		if err != nil && !errors.Is(err, hnsw.ErrCorrupt) {
			t.Fatalf("converted node: %v", err)
		}
		if err == nil && !bytes.Equal(nodeV1(out, 4), b) {
			t.Fatalf("round trip:\n%x\n%x", b, nodeV1(out, 4))
		}
	})
}
