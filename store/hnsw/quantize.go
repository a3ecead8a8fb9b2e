package hnsw

import (
	"encoding/binary"
	"math"
)

// quantizer maps each dimension linearly onto the codes 0..255 using a
// per-dimension min/max learned from training vectors; values outside are
// clamped.
//
// Distances are asymmetric: the query stays nearly exact. It is folded
// with the scales into one weight per dimension, qs[j] = q[j]*scale[j], so
// dot(q, decoded code) = bias + sum(qs[j]*code[j]), and the weights are
// quantised once per search onto 0..63 (queryCodes) so that the sum is an
// integer dot product of 8-bit codes with 6-bit weights. dotCodes computes
// it four products per 64-bit multiply (SWAR); the final candidates are
// re-scored with the float vectors.
type quantizer struct {
	min   []float32
	scale []float32 // (max-min)/255, widened
	inv   []float32 // 1/scale
}

// trainQuantizer learns min/max per dimension over vecs (n*dim), widened by
// 5% of the range so later vectors rarely clamp.
func trainQuantizer(vecs []float32, dim int) *quantizer {
	q := &quantizer{min: make([]float32, dim), scale: make([]float32, dim), inv: make([]float32, dim)}
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
		q.inv[j] = 1 / q.scale[j]
	}
	return q
}

// codeGroup holds the codes of 16 dimensions, 8 per little-endian word.
type codeGroup [2]uint64

// groups is the number of code groups per vector of dimension dim; the
// codes of the padding dimensions are 0.
func groups(dim int) int { return (dim + 15) / 16 }

// encode writes the codes of v into dst (groups(len(v)) groups) and
// returns their sum.
func (q *quantizer) encode(dst []codeGroup, v []float32) (sum uint32) {
	for g := range dst {
		j := 16 * g
		var b [16]byte
		if j+16 <= len(v) { // whole group: a branch-free loop
			vv, mn, inv := v[j:j+16], q.min[j:j+16], q.inv[j:j+16]
			for k := range b {
				b[k] = uint8(min(max((vv[k]-mn[k])*inv[k]+0.5, 0), 255))
			}
		} else {
			for k := 0; j+k < len(v); k++ {
				b[k] = uint8(min(max((v[j+k]-q.min[j+k])*q.inv[j+k]+0.5, 0), 255))
			}
		}
		for _, c := range b {
			sum += uint32(c)
		}
		dst[g] = codeGroup{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
	}
	return sum
}

// queryWeightMax is the largest quantised query weight: with codes up to
// 255, four products and every partial sum of the SWAR multiply stay below
// 2^16 (4*255*63 = 64260).
const queryWeightMax = 63

// queryCodes is a query prepared for dotCodes: the estimate of dot(query,
// vector with codes c and code sum csum) is bias + lo*csum + step*dotCodes(y, c).
type queryCodes struct {
	// y holds, per group of 16 dimensions, the quantised weights in four
	// words of four 16-bit lanes: the even then the odd dimensions of the
	// first 8, then of the next 8, each word in reverse lane order.
	y        [][4]uint64
	bias     float32
	lo, step float32
}

// prepare quantises query into qc (reusing its slices).
func (q *quantizer) prepare(qc *queryCodes, query []float32) {
	dim := len(query)
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	var bias float32
	for j, x := range query {
		w := x * q.scale[j]
		lo, hi = min(lo, w), max(hi, w)
		bias += x * q.min[j]
	}
	step := (hi - lo) / queryWeightMax
	if !(step > 0) {
		step = 1
	}
	inv := 1 / step
	weight := func(j int) uint64 {
		if j >= dim {
			return 0 // padding: its codes are 0 anyway
		}
		u := (query[j]*q.scale[j]-lo)*inv + 0.5
		return uint64(min(max(u, 0), queryWeightMax))
	}
	// dotCodes multiplies the even bytes of 8 codes, spread into the four
	// 16-bit lanes of a word, by a word holding their weights in reverse
	// lane order: the top lane of the product is then the sum of the four
	// products (the lower lanes hold cross terms, the higher ones fall off).
	word := func(j int) uint64 {
		return weight(j+6) | weight(j+4)<<16 | weight(j+2)<<32 | weight(j)<<48
	}
	qc.y = qc.y[:0]
	for j := 0; j < dim; j += 16 {
		qc.y = append(qc.y, [4]uint64{word(j), word(j + 1), word(j + 8), word(j + 9)})
	}
	qc.bias, qc.lo, qc.step = bias, lo, step
}

// lowBytes selects the even bytes of a word, one per 16-bit lane.
const lowBytes = 0x00FF00FF00FF00FF

// dotCodes returns sum(weight[j]*code[j]) for the weights of qc: per 16
// codes, two loads and four multiplies (the loop has no bounds checks).
func dotCodes(qc *queryCodes, c []codeGroup) uint64 {
	y := qc.y[:len(c)]
	var s0, s1, s2, s3 uint64
	for i := range c {
		w0, w1 := c[i][0], c[i][1]
		p := &y[i]
		s0 += (w0 & lowBytes * p[0]) >> 48
		s1 += (w0 >> 8 & lowBytes * p[1]) >> 48
		s2 += (w1 & lowBytes * p[2]) >> 48
		s3 += (w1 >> 8 & lowBytes * p[3]) >> 48
	}
	return s0 + s1 + s2 + s3
}

// unpackCodes returns the code bytes of a vector (tests).
func unpackCodes(c []codeGroup, dim int) []uint8 {
	out := make([]uint8, 0, 16*len(c))
	for _, g := range c {
		out = binary.LittleEndian.AppendUint64(out, g[0])
		out = binary.LittleEndian.AppendUint64(out, g[1])
	}
	return out[:dim]
}

// unpackWeights returns the quantised query weights of qc (tests).
func unpackWeights(qc *queryCodes, dim int) []uint8 {
	out := make([]uint8, 16*len(qc.y))
	for g, ws := range qc.y {
		for k := range 16 {
			word := ws[(k%2)+2*(k/8)] // even/odd of the first 8, then of the next 8
			lane := (k % 8) / 2       // 0 for dims 0/1, 3 for dims 6/7
			out[16*g+k] = uint8(word >> (48 - 16*lane))
		}
	}
	return out[:dim]
}

// dotCodesRef is dotCodes computed plainly (tests).
func dotCodesRef(weights []uint8, c []uint8) uint64 {
	var s uint64
	for j, u := range weights {
		s += uint64(u) * uint64(c[j])
	}
	return s
}
