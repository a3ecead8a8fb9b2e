package mixture

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// The recipe's constants (shared/ann/gen_data.py).
const (
	clusters = 2000
	rankG    = 32 // shared low-rank subspace
	rankL    = 24 // per-cluster basis
)

// Mixture is the recipe of shared/ann/gen_data.py (the same distribution, not the same numbers
// as numpy): imbalanced anisotropic clusters around a shared low-rank subspace, unit vectors.
type Mixture struct {
	dim   int
	k     int         // clusters
	cum   []float64   // cumulative cluster weights
	ug    [][]float32 // rankG orthonormal columns, each dataDim
	g     []float64   // global spectrum, unit norm
	mu    [][]float32 // k x dim
	basis [][][]float32
	s     []float64 // local spectrum, unit norm
	sigma []float64
}

// orth returns r orthonormal vectors of length d (Gram-Schmidt of Gaussians).
func orth(rng *rand.Rand, d, r int) [][]float32 {
	out := make([][]float32, 0, r)
	for len(out) < r {
		v := make([]float64, d)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		for pass := 0; pass < 2; pass++ {
			for _, u := range out {
				var p float64
				for i := range v {
					p += v[i] * float64(u[i])
				}
				for i := range v {
					v[i] -= p * float64(u[i])
				}
			}
		}
		var n float64
		for _, x := range v {
			n += x * x
		}
		n = math.Sqrt(n)
		f := make([]float32, d)
		for i := range v {
			f[i] = float32(v[i] / n)
		}
		out = append(out, f)
	}
	return out
}

func unitSpectrum(r int, f func(i int) float64) []float64 {
	s := make([]float64, r)
	var n float64
	for i := range s {
		s[i] = f(i)
		n += s[i] * s[i]
	}
	for i := range s {
		s[i] /= math.Sqrt(n)
	}
	return s
}

// New builds the mixture for vectors of dim dimensions (at least rankG + rankL) from seed.
func New(dim int, seed uint64) *Mixture {
	rng := rand.New(rand.NewPCG(seed, 0))
	m := begin(rng, dim, clusters)
	m0 := make([]float64, dim)
	var n0 float64
	for i := range m0 {
		m0[i] = rng.NormFloat64()
		n0 += m0[i] * m0[i]
	}
	for i := range m0 {
		m0[i] *= 0.35 / math.Sqrt(n0)
	}
	m.mu = make([][]float32, clusters)
	for c := range m.mu {
		mu := make([]float64, dim)
		copy(mu, m0)
		for j := range rankG {
			a := rng.NormFloat64() * m.g[j] * 0.8
			for i := range mu {
				mu[i] += a * float64(m.ug[j][i])
			}
		}
		m.mu[c] = make([]float32, dim)
		for i := range mu {
			m.mu[c][i] = float32(mu[i] + rng.NormFloat64()*0.6/math.Sqrt(float64(dim)))
		}
	}
	m.finish(rng)
	return m
}

// Around is the recipe with the given cluster centres in place of drawn ones, each scaled to
// unit norm (the drawn centres' norm is about 1): real embeddings as centres put synthetic
// vectors where a model's queries look, each centre a cluster of near variants (bursts,
// edits, near-duplicates in a photo library), with the recipe's spread around it.
func Around(centres [][]float32, seed uint64) *Mixture {
	if len(centres) == 0 {
		panic("mixture: no centres")
	}
	dim := len(centres[0])
	rng := rand.New(rand.NewPCG(seed, 0))
	m := begin(rng, dim, len(centres))
	m.mu = make([][]float32, len(centres))
	for c, v := range centres {
		if len(v) != dim {
			panic(fmt.Sprintf("mixture: centre %d has %d dimensions, want %d", c, len(v), dim))
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		m.mu[c] = make([]float32, dim)
		for i, x := range v {
			m.mu[c][i] = float32(float64(x) / math.Sqrt(n))
		}
	}
	m.finish(rng)
	return m
}

// begin draws the cluster weights and the shared subspace (the recipe's first draws).
func begin(rng *rand.Rand, dim, k int) *Mixture {
	if dim < rankG+rankL {
		panic(fmt.Sprintf("mixture: dimension %d, want at least %d", dim, rankG+rankL))
	}
	m := &Mixture{dim: dim, k: k}
	w := make([]float64, k)
	var sum float64
	for i := range w {
		w[i] = math.Exp(0.8 * rng.NormFloat64())
		sum += w[i]
	}
	m.cum = make([]float64, k)
	acc := 0.0
	for i := range w {
		acc += w[i] / sum
		m.cum[i] = acc
	}
	m.ug = orth(rng, dim, rankG)
	m.g = unitSpectrum(rankG, func(i int) float64 { return math.Pow(float64(i+1), -0.7) })
	return m
}

// finish draws each cluster's basis and spread (the recipe's last draws).
func (m *Mixture) finish(rng *rand.Rand) {
	m.basis = make([][][]float32, m.k)
	for c := range m.basis {
		m.basis[c] = orth(rng, m.dim, rankL)
	}
	m.s = unitSpectrum(rankL, func(i int) float64 { return math.Exp(-float64(i) / 12) })
	m.sigma = make([]float64, m.k)
	for c := range m.sigma {
		m.sigma[c] = 0.6 * math.Exp(0.4*rng.NormFloat64())
	}
}

// Dim is the vectors' dimension.
func (m *Mixture) Dim() int { return m.dim }

// Sample draws n unit vectors into a flat n*Dim slice, in parallel blocks with per-block
// streams derived from seed (deterministic on any machine).
func (m *Mixture) Sample(n int, seed uint64) []float32 {
	dataDim := m.dim
	out := make([]float32, n*dataDim)
	const block = 4096
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for b := 0; b*block < n; b++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rng := rand.New(rand.NewPCG(seed, uint64(b)))
			for i := b * block; i < min(n, (b+1)*block); i++ {
				m.point(rng, out[i*dataDim:(i+1)*dataDim])
			}
		})
	}
	wg.Wait()
	return out
}

func (m *Mixture) point(rng *rand.Rand, x []float32) {
	dataDim := m.dim
	c, _ := slices.BinarySearch(m.cum, rng.Float64())
	c = min(c, m.k-1)
	copy(x, m.mu[c])
	for j := range rankL {
		a := float32(rng.NormFloat64() * m.s[j] * m.sigma[c])
		axpy(x, a, m.basis[c][j])
	}
	for j := range rankG {
		axpy(x, float32(rng.NormFloat64()*m.g[j]*0.35), m.ug[j])
	}
	eps := 0.25 / math.Sqrt(float64(dataDim))
	var n float64
	for i := range x {
		x[i] += float32(rng.NormFloat64() * eps)
		n += float64(x[i]) * float64(x[i])
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range x {
		x[i] *= inv
	}
}

func axpy(x []float32, a float32, v []float32) {
	for i := range x {
		x[i] += a * v[i]
	}
}
