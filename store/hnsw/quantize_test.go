package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestDotCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for dim := 1; dim <= 70; dim++ {
		for range 20 {
			query := make([]float32, dim)
			vec := make([]float32, dim)
			for j := range dim {
				query[j], vec[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			q := trainQuantizer(vec, dim)
			c := make([]codeGroup, groups(dim))
			sum := q.encode(c, vec)
			b := unpackCodes(c, dim)
			var want uint32
			for _, v := range b {
				want += uint32(v)
			}
			if sum != want {
				t.Fatalf("dim %d: code sum %d, want %d", dim, sum, want)
			}
			// the extremes must not overflow a lane
			for _, j := range []int{rng.IntN(dim), rng.IntN(dim)} {
				g, k := j/16, j%16
				c[g][k/8] |= 0xff << (8 * (k % 8))
			}
			var qc queryCodes
			q.prepare(&qc, query)
			weights := unpackWeights(&qc, dim)
			for j, u := range weights {
				if u > queryWeightMax {
					t.Fatalf("dim %d: weight %d of %d", dim, j, u)
				}
			}
			if got, want := dotCodes(&qc, c), dotCodesRef(weights, unpackCodes(c, dim)); got != want {
				t.Fatalf("dim %d: dotCodes %d, want %d", dim, got, want)
			}
		}
	}
}

// TestQuantizedEstimate checks that the asymmetric estimate tracks the
// exact inner product of unit vectors closely enough to rank candidates.
func TestQuantizedEstimate(t *testing.T) {
	data := clustered(2000, 256, 20, 3)
	flat := make([]float32, 0, 2000*256)
	for _, v := range data {
		flat = append(flat, v...)
	}
	q := trainQuantizer(flat[:1024*256], 256)
	c := make([]codeGroup, groups(256))
	var qc queryCodes
	var worst, sum2 float64
	for i := 1000; i < 2000; i++ {
		q.prepare(&qc, data[i-1000])
		cs := q.encode(c, data[i])
		est := qc.bias + qc.lo*float32(cs) + qc.step*float32(dotCodes(&qc, c))
		e := math.Abs(float64(est - dot(data[i-1000], data[i])))
		worst, sum2 = max(worst, e), sum2+e*e
	}
	rms := math.Sqrt(sum2 / 1000)
	t.Logf("estimate error: rms %.5f, worst %.5f", rms, worst)
	if rms > 0.01 || worst > 0.04 {
		t.Fatalf("estimate error rms %.5f worst %.5f", rms, worst)
	}
}

// BenchmarkDistance compares one traversal distance, float32 (vek32 AVX2)
// against the int8 codes, on vectors in cache and on random vectors of
// 100k (100 MB as float32, 25 MB as codes).
func BenchmarkDistance(b *testing.B) {
	const dim = 256
	for _, n := range []int{64, 100_000} {
		rng := rand.New(rand.NewPCG(1, 1))
		f := make([]float32, n*dim)
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
		q := trainQuantizer(f[:min(n, 1024)*dim], dim)
		g := groups(dim)
		codes := make([]codeGroup, n*g)
		csum := make([]uint32, n)
		for s := range n {
			csum[s] = q.encode(codes[s*g:(s+1)*g], f[s*dim:(s+1)*dim])
		}
		query := f[:dim]
		var qc queryCodes
		q.prepare(&qc, query)
		order := make([]int, 1<<16)
		for i := range order {
			order[i] = rng.IntN(n)
		}
		b.Run(fmt.Sprintf("f32/n=%d", n), func(b *testing.B) {
			var s float32
			i := 0
			for b.Loop() {
				k := order[i&0xffff] * dim
				s += dot(query, f[k:k+dim])
				i++
			}
			_ = s
		})
		b.Run(fmt.Sprintf("int8/n=%d", n), func(b *testing.B) {
			var s float32
			i := 0
			for b.Loop() {
				v := order[i&0xffff]
				k := v * g
				s += qc.bias + qc.lo*float32(csum[v]) + qc.step*float32(dotCodes(&qc, codes[k:k+g]))
				i++
			}
			_ = s
		})
	}
}
