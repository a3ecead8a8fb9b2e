package rerank

import (
	"encoding/binary"
	"math"
	"sync"
)

// halfFromFloat converts f to IEEE 754 binary16 bits, rounding to nearest even; values beyond
// the half range become ±Inf, NaN stays NaN.
func halfFromFloat(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp > 127+15: // overflow
		return sign | 0x7c00
	case exp >= 127-14: // normal half
		e := uint32(exp-127+15) << 10
		m := man >> 13
		v := e | m
		rest := man & 0x1fff
		if rest > 0x1000 || (rest == 0x1000 && m&1 == 1) {
			v++ // may carry into the exponent, which is still correct (up to Inf)
		}
		return sign | uint16(v)
	case exp >= 127-25: // subnormal half
		man |= 0x800000
		shift := uint32(127 - 14 - exp + 13)
		m := man >> shift
		rest := man & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || (rest == half && m&1 == 1) {
			m++
		}
		return sign | uint16(m)
	}
	return sign // underflow to ±0
}

// floatFromHalf converts binary16 bits to float32 exactly.
func floatFromHalf(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// subnormal: normalise
	e := uint32(127 - 15 + 1)
	for man&0x400 == 0 {
		man <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
}

// roundHalf rounds v to fp16 precision in place and returns it.
func roundHalf(v []float32) []float32 {
	for i, f := range v {
		v[i] = floatFromHalf(halfFromFloat(f))
	}
	return v
}

var (
	halfOnce  sync.Once
	halfTable *[1 << 16]float32 // every half value as float32 (256 KiB)
)

// halfLUT returns the conversion table, built on first use: a lookup is several times faster
// than floatFromHalf, which matters when a query reads K x N x C cached values on a CPU without
// F16C (decodeHalves).
func halfLUT() *[1 << 16]float32 {
	halfOnce.Do(func() {
		halfTable = new([1 << 16]float32)
		for h := range halfTable {
			halfTable[h] = floatFromHalf(uint16(h))
		}
	})
	return halfTable
}

// decodeHalvesTable is decodeHalves through the table: the portable path, and the tail of
// the hardware one.
func decodeHalvesTable(dst []float32, src []byte) {
	lut := halfLUT()
	src = src[:2*len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 { // four values per 8-byte load
		v := binary.LittleEndian.Uint64(src[2*i:])
		d := dst[i : i+4 : i+4]
		d[0], d[1], d[2], d[3] = lut[uint16(v)], lut[uint16(v>>16)], lut[uint16(v>>32)], lut[uint16(v>>48)]
	}
	for ; i < len(dst); i++ {
		dst[i] = lut[binary.LittleEndian.Uint16(src[2*i:])]
	}
}
