package hnsw

import "math"

// quantizer maps each dimension linearly onto 0..255 using a per-dimension
// min/max learned from training vectors; values outside are clamped.
type quantizer struct {
	min   []float32
	scale []float32 // (max-min)/255
}

// trainQuantizer learns min/max per dimension over vecs (n*dim), widened by
// 5% of the range so later vectors rarely clamp.
func trainQuantizer(vecs []float32, dim int) *quantizer {
	q := &quantizer{min: make([]float32, dim), scale: make([]float32, dim)}
	hi := make([]float32, dim)
	for j := range dim {
		q.min[j], hi[j] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for i := 0; i+dim <= len(vecs); i += dim {
		for j, v := range vecs[i : i+dim] {
			q.min[j] = min(q.min[j], v)
			hi[j] = max(hi[j], v)
		}
	}
	for j := range dim {
		r := hi[j] - q.min[j]
		if r <= 0 || math.IsInf(float64(r), 0) {
			q.min[j], r = -1, 2
		}
		q.min[j] -= 0.05 * r
		q.scale[j] = 1.1 * r / 255
	}
	return q
}

func (q *quantizer) encode(dst []uint8, v []float32) {
	for j, x := range v {
		c := (x - q.min[j]) / q.scale[j]
		switch {
		case c <= 0:
			dst[j] = 0
		case c >= 255:
			dst[j] = 255
		default:
			dst[j] = uint8(c + 0.5)
		}
	}
}

// prepare turns a float query into the asymmetric form: score(code) =
// bias + sum(qs[j]*code[j]) approximates dot(query, decoded vector).
func (q *quantizer) prepare(qs []float32, query []float32) (bias float32) {
	for j, x := range query {
		qs[j] = x * q.scale[j]
		bias += x * q.min[j]
	}
	return bias
}

// dotCode is sum(qs[j]*float(c[j])), unrolled by 8.
func dotCode(qs []float32, c []uint8) float32 {
	c = c[:len(qs)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(qs); i += 8 {
		s0 += qs[i]*float32(c[i]) + qs[i+4]*float32(c[i+4])
		s1 += qs[i+1]*float32(c[i+1]) + qs[i+5]*float32(c[i+5])
		s2 += qs[i+2]*float32(c[i+2]) + qs[i+6]*float32(c[i+6])
		s3 += qs[i+3]*float32(c[i+3]) + qs[i+7]*float32(c[i+7])
	}
	for ; i < len(qs); i++ {
		s0 += qs[i] * float32(c[i])
	}
	return s0 + s1 + s2 + s3
}
