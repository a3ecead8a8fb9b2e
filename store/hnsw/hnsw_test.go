package hnsw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// clustered returns n unit vectors of dimension dim drawn around k random
// centres, deterministic for seed.
func clustered(n, dim, k int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, k)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range dim {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[rng.IntN(k)]
		v := make([]float32, dim)
		for j := range dim {
			v[j] = c[j] + 0.6*float32(rng.NormFloat64())
		}
		_ = normalize(v, v)
		out[i] = v
	}
	return out
}

func build(t testing.TB, vecs [][]float32, o Options) *Index {
	t.Helper()
	x := New(len(vecs[0]), o)
	for i, v := range vecs {
		if err := x.Add(uint64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

// recall is the mean share of the exact top k (SearchExact with the same
// filter) that Search returns.
func recall(t testing.TB, x *Index, queries [][]float32, k, ef int, filter func(uint64) bool) float64 {
	t.Helper()
	hit, total := 0, 0
	for _, q := range queries {
		want, err := x.SearchExact(q, k, filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.Search(q, k, ef, filter)
		if err != nil {
			t.Fatal(err)
		}
		in := map[uint64]bool{}
		for _, r := range got {
			in[r.ID] = true
		}
		for _, r := range want {
			if in[r.ID] {
				hit++
			}
		}
		total += len(want)
	}
	return float64(hit) / float64(total)
}

func TestRecall(t *testing.T) {
	n := 8000
	if testing.Short() {
		n = 3000
	}
	data := clustered(n+200, 96, 40, 1)
	base, queries := data[:n], data[n:]
	for _, tc := range []struct {
		name string
		o    Options
		ef   int
		min  float64
	}{
		{"f32 ef64", Options{Seed: 3}, 64, 0.95},
		{"int8 ef64", Options{Seed: 3, Quantize: QuantizeInt8}, 64, 0.95},
		{"f32 ef200", Options{Seed: 3}, 200, 0.99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := build(t, base, tc.o)
			if r := recall(t, x, queries, 10, tc.ef, nil); r < tc.min {
				t.Fatalf("recall@10 = %.4f, want >= %.2f", r, tc.min)
			} else {
				t.Logf("recall@10 = %.4f", r)
			}
		})
	}
}

func TestSearchSortedAndEfDefault(t *testing.T) {
	data := clustered(2000, 32, 10, 2)
	x := build(t, data, Options{ExactBelow: 10})
	res, err := x.Search(data[5], 20, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 20 || res[0].ID != 5 {
		t.Fatalf("got %d results, first %v", len(res), res[0])
	}
	for i := 1; i < len(res); i++ {
		if res[i].Score > res[i-1].Score {
			t.Fatalf("not sorted at %d: %v", i, res)
		}
	}
}

func TestUpdate(t *testing.T) {
	data := clustered(3000, 32, 10, 3)
	x := build(t, data, Options{ExactBelow: 10})
	// move id 7 onto id 100's vector: searching that vector now finds both
	if err := x.Add(7, data[100]); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 3000 || x.Slots() != 3001 {
		t.Fatalf("len %d slots %d", x.Len(), x.Slots())
	}
	res, _ := x.Search(data[100], 2, 64, nil)
	got := map[uint64]bool{res[0].ID: true, res[1].ID: true}
	if !got[7] || !got[100] {
		t.Fatalf("after update got %v", res)
	}
	// the old vector of 7 no longer finds 7 first
	res, _ = x.Search(data[7], 1, 64, nil)
	if res[0].ID == 7 {
		t.Fatalf("old vector still maps to 7: %v", res)
	}
	v, _ := x.Vector(7)
	if dot(v, data[100]) < 0.9999 {
		t.Fatal("Vector(7) not updated")
	}
}

func TestDelete(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 2500
	}
	data := clustered(n+200, 64, 30, 4)
	base, queries := data[:n], data[n:]
	x := build(t, base, Options{Seed: 5, ExactBelow: 10})
	rng := rand.New(rand.NewPCG(9, 9))
	deleted := map[uint64]bool{}
	for _, i := range rng.Perm(n)[:n*3/10] {
		if err := x.Delete(uint64(i)); err != nil {
			t.Fatal(err)
		}
		deleted[uint64(i)] = true
	}
	if err := x.Delete(uint64(rng.Perm(n)[0])); err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := x.Delete(1 << 40); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
	for _, q := range append(queries, base[:200]...) {
		res, _ := x.Search(q, 10, 64, nil)
		for _, r := range res {
			if deleted[r.ID] {
				t.Fatalf("deleted id %d returned", r.ID)
			}
		}
	}
	if r := recall(t, x, queries, 10, 64, nil); r < 0.95 {
		t.Fatalf("recall after 30%% deletes = %.4f", r)
	} else {
		t.Logf("recall after deleting 30%%: %.4f", r)
	}
	x.Compact()
	if x.Slots() != x.Len() {
		t.Fatalf("compact left %d slots for %d live", x.Slots(), x.Len())
	}
	if r := recall(t, x, queries, 10, 64, nil); r < 0.95 {
		t.Fatalf("recall after compact = %.4f", r)
	}
}

func TestFilter(t *testing.T) {
	data := clustered(5200, 48, 20, 5)
	base, queries := data[:5000], data[5000:]
	x := build(t, base, Options{Seed: 1, ExactBelow: 200})
	for _, tc := range []struct {
		name   string
		filter func(uint64) bool
		min    float64
	}{
		{"half", func(id uint64) bool { return id%2 == 0 }, 0.95},
		{"tenth", func(id uint64) bool { return id%10 == 3 }, 0.95},
		{"few (exact)", func(id uint64) bool { return id%97 == 0 }, 1},
		{"none", func(uint64) bool { return false }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range queries {
				res, _ := x.Search(q, 10, 64, tc.filter)
				for _, r := range res {
					if !tc.filter(r.ID) {
						t.Fatalf("id %d fails the filter", r.ID)
					}
				}
			}
			if tc.min > 0 {
				if r := recall(t, x, queries, 10, 64, tc.filter); r < tc.min {
					t.Fatalf("filtered recall %.4f < %.2f", r, tc.min)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	x := New(4, Options{})
	for _, tc := range []struct {
		name string
		vec  []float32
		want error
	}{
		{"short", []float32{1, 2}, ErrDimension},
		{"zero", []float32{0, 0, 0, 0}, ErrBadVector},
		{"nan", []float32{float32(math.NaN()), 0, 0, 1}, ErrBadVector},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := x.Add(1, tc.vec); !errors.Is(err, tc.want) {
				t.Fatalf("Add: %v, want %v", err, tc.want)
			}
			if _, err := x.Search(tc.vec, 1, 1, nil); !errors.Is(err, tc.want) {
				t.Fatalf("Search: %v, want %v", err, tc.want)
			}
		})
	}
	if x.Len() != 0 || x.Slots() != 0 {
		t.Fatal("failed adds left state behind")
	}
	if res, err := x.Search([]float32{1, 0, 0, 0}, 3, 10, nil); err != nil || res != nil {
		t.Fatalf("empty search: %v %v", res, err)
	}
}

func TestConcurrentSearchOneWriter(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 1200
	}
	data := clustered(n*2, 32, 10, 6)
	x := build(t, data[:n], Options{ExactBelow: 10, M: 8, EfConstruction: 64})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := x.Search(data[i%len(data)], 5, 32, func(id uint64) bool { return id%3 != 0 }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := n; i < 2*n; i++ {
		if err := x.Add(uint64(i), data[i]); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			_ = x.Delete(uint64(i - n))
		}
		if i%100 == 0 {
			x.Dirty()
		}
	}
	close(stop)
	wg.Wait()
}

func TestPersistRoundTrip(t *testing.T) {
	data := clustered(3000, 32, 10, 8)
	for _, q := range []Quantization{QuantizeNone, QuantizeInt8} {
		t.Run(q.String(), func(t *testing.T) {
			x := build(t, data[:2500], Options{Quantize: q, ExactBelow: 10, QuantizeTrain: 500})
			for i := range 100 {
				_ = x.Delete(uint64(i * 3))
			}
			y := reload(t, x)
			if y.Len() != x.Len() || y.Slots() != x.Slots() {
				t.Fatalf("len %d/%d slots %d/%d", y.Len(), x.Len(), y.Slots(), x.Slots())
			}
			for _, qv := range data[2500:2600] {
				a, _ := x.Search(qv, 10, 50, nil)
				b, _ := y.Search(qv, 10, 50, nil)
				if len(a) != len(b) {
					t.Fatal("result lengths differ")
				}
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("results differ at %d: %v vs %v", i, a[i], b[i])
					}
				}
			}
		})
	}
}

// reload copies x through the node encoding into a fresh index.
func reload(t testing.TB, x *Index) *Index {
	t.Helper()
	y := New(x.Dim(), x.Options())
	n := x.Slots()
	vecs := y.BeginLoad(n)
	copy(vecs, x.vecs)
	for s := range n {
		enc := x.MarshalNode(nil, uint32(s))
		if k, err := y.LoadNode(uint32(s), enc); err != nil || k != len(enc) {
			t.Fatalf("slot %d: %v (used %d of %d bytes)", s, err, k, len(enc))
		}
	}
	e, l := x.Entry()
	if err := y.EndLoad(e, l); err != nil {
		t.Fatal(err)
	}
	return y
}

func TestLoadCorrupt(t *testing.T) {
	data := clustered(300, 8, 3, 9)
	x := build(t, data, Options{})
	good := x.MarshalNode(nil, 5)
	for _, tc := range []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"flags", func(b []byte) []byte { b[0] = 4; return b }},
		{"level", func(b []byte) []byte { b[1] = 200; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"count", func(b []byte) []byte { b[nodeHeader] = 250; return b }},
		{"count beyond data", func(b []byte) []byte { b[nodeHeader]++; return b }},
		{"neighbour", func(b []byte) []byte { b[nodeHeader+4] = 0xff; return b }},
		{"self", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[nodeHeader+1:], 5); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mut(append([]byte(nil), good...))
			if _, err := ValidateNode(x.Options(), 5, 300, b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
	// encodings are self-delimiting: trailing bytes belong to the next one
	if k, err := ValidateNode(x.Options(), 5, 300, append(slices.Clone(good), 1, 2, 3)); err != nil || k != len(good) {
		t.Fatalf("with trailing bytes: %d %v, want %d", k, err, len(good))
	}
	y := New(8, Options{})
	y.BeginLoad(2)
	if err := y.EndLoad(0, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("missing nodes: %v", err)
	}
}

func FuzzNodeDecode(f *testing.F) {
	data := clustered(200, 8, 3, 10)
	x := build(f, data, Options{M: 4})
	for s := range 20 {
		f.Add(x.MarshalNode(nil, uint32(s)))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ValidateNode(x.Options(), 3, 200, b)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error type: %v", err)
		}
		if err != nil {
			return
		}
		y := New(8, x.Options())
		y.BeginLoad(200)
		k2, err := y.LoadNode(3, b)
		if err != nil || k2 != k || k > len(b) {
			t.Fatalf("validated node (%d bytes) fails to load: %d %v", k, k2, err)
		}
		// a loaded node re-encodes to the bytes it was read from
		if enc := y.MarshalNode(nil, 3); !bytes.Equal(enc, b[:k]) {
			t.Fatalf("round trip:\n%x\n%x", b[:k], enc)
		}
	})
}

func BenchmarkDot(b *testing.B) {
	data := clustered(2, 256, 1, 11)
	for _, bc := range []struct {
		name string
		f    func(a, b []float32) float32
	}{{"vek32", dot}, {"unrolled", dotUnrolled}} {
		b.Run(bc.name, func(b *testing.B) {
			var s float32
			for b.Loop() {
				s += bc.f(data[0], data[1])
			}
			_ = s
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	data := clustered(10200, 128, 50, 12)
	for _, q := range []Quantization{QuantizeNone, QuantizeInt8} {
		x := build(b, data[:10000], Options{Quantize: q})
		b.Run(q.String(), func(b *testing.B) {
			i := 0
			for b.Loop() {
				_, _ = x.Search(data[10000+i%200], 10, 64, nil)
				i++
			}
		})
	}
}

// TestGreedyLocalMinimum: the descent through the upper layers ends at a node no neighbour of
// which is closer to the query, and never further than where it started (the entry point).
func TestGreedyLocalMinimum(t *testing.T) {
	data := clustered(3000, 32, 10, 4)
	x := build(t, data, Options{Seed: 5})
	if x.maxLevel < 1 {
		t.Fatalf("the graph has no upper layer (max level %d)", x.maxLevel)
	}
	for qi, q := range clustered(50, 32, 10, 99) {
		ep := item{d: x.dist(q, nil, x.entry), s: x.entry}
		for l := x.maxLevel; l > 0; l-- {
			start := ep
			ep = x.greedy(q, ep, l)
			if ep.d > start.d {
				t.Fatalf("query %d, layer %d: greedy went from %g up to %g", qi, l, start.d, ep.d)
			}
			for _, n := range x.links(ep.s, l) {
				if d := x.dist(q, nil, n); d < ep.d {
					t.Fatalf("query %d, layer %d: stopped at %g with a closer neighbour at %g", qi, l, ep.d, d)
				}
			}
		}
	}
}
