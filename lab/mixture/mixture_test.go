package mixture

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Same seeds, same vectors; every vector has unit norm; at every dimension the benchmarks use.
func TestSampleDeterministicAndUnit(t *testing.T) {
	for _, dim := range []int{128, 256} {
		a := New(dim, 5).Sample(300, 9)
		b := New(dim, 5).Sample(300, 9)
		if !slices.Equal(a, b) {
			t.Fatalf("dim %d: same seed, different data", dim)
		}
		if c := New(dim, 5).Sample(300, 10); slices.Equal(a, c) {
			t.Fatalf("dim %d: another sample seed, the same data", dim)
		}
		for i := range 300 {
			if s := dot(a[i*dim:(i+1)*dim], a[i*dim:(i+1)*dim]); math.Abs(s-1) > 1e-4 {
				t.Fatalf("dim %d: row %d norm^2 %v", dim, i, s)
			}
		}
	}
}

// The vectors are clustered as embeddings are: a point's nearest neighbour among 2,000 is far
// closer than it is among as many points drawn uniformly on the sphere.
func TestSampleClustered(t *testing.T) {
	const dim, n = 128, 2000
	mix := New(dim, 1).Sample(n, 2)
	r := rand.New(rand.NewPCG(3, 4))
	uni := make([]float32, n*dim)
	for i := range n {
		v := uni[i*dim : (i+1)*dim]
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		s := float32(math.Sqrt(dot(v, v)))
		for j := range v {
			v[j] /= s
		}
	}
	nearest := func(x []float32) float64 {
		var sum float64
		for i := range 200 {
			best := -1.0
			for j := range n {
				if j != i {
					best = max(best, dot(x[i*dim:(i+1)*dim], x[j*dim:(j+1)*dim]))
				}
			}
			sum += best
		}
		return sum / 200
	}
	m, u := nearest(mix), nearest(uni)
	t.Logf("mean nearest-neighbour cosine: mixture %.3f, uniform %.3f", m, u)
	if m < u+0.3 {
		t.Fatalf("mixture nearest cosine %.3f, uniform %.3f: not clustered", m, u)
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Around keeps the recipe's spread but puts the clusters at the given centres: every vector lies
// much nearer one of them than uniform vectors do.
func TestAround(t *testing.T) {
	const dim, k = 128, 20
	r := rand.New(rand.NewPCG(5, 6))
	centres := make([][]float32, k)
	for c := range centres {
		centres[c] = make([]float32, dim)
		for i := range centres[c] {
			centres[c][i] = float32(r.NormFloat64() * 3) // any norm: Around scales them
		}
	}
	a, b := Around(centres, 1).Sample(500, 2), Around(centres, 1).Sample(500, 2)
	if !slices.Equal(a, b) {
		t.Fatal("same seeds, different data")
	}
	var mean float64
	for i := range 500 {
		x := a[i*dim : (i+1)*dim]
		if s := dot(x, x); math.Abs(s-1) > 1e-4 {
			t.Fatalf("row %d norm^2 %v", i, s)
		}
		best := -1.0
		for _, c := range centres {
			best = max(best, dot(x, c)/math.Sqrt(dot(c, c)))
		}
		mean += best / 500
	}
	t.Logf("mean cosine to the nearest centre: %.3f", mean)
	if mean < 0.6 {
		t.Fatalf("mean cosine to the nearest centre %.3f: the vectors are not around the centres", mean)
	}
}
