package hnsw

import (
	"math"

	"github.com/viterin/vek/vek32"
)

// dot is the inner product used on the hot path. BenchmarkDot compares
// vek32.Dot (AVX2 assembly) with dotUnrolled; vek32 wins by ~4x at d=256 on
// AVX2 machines and falls back to Go code elsewhere.
func dot(a, b []float32) float32 { return vek32.Dot(a, b) }

// dotUnrolled is the plain-Go reference, unrolled by 8.
func dotUnrolled(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += a[i]*b[i] + a[i+4]*b[i+4]
		s1 += a[i+1]*b[i+1] + a[i+5]*b[i+5]
		s2 += a[i+2]*b[i+2] + a[i+6]*b[i+6]
		s3 += a[i+3]*b[i+3] + a[i+7]*b[i+7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// normalize copies v scaled to unit L2 norm into dst.
func normalize(dst, v []float32) error {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return ErrBadVector
	}
	inv := float32(1 / math.Sqrt(s))
	for i, x := range v {
		dst[i] = x * inv
	}
	return nil
}

func mathFloat32bits(f float32) uint32 { return math.Float32bits(f) }
