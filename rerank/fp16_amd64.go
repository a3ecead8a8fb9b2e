//go:build !purego

package rerank

import "golang.org/x/sys/cpu"

// hasF16C reports whether the CPU converts halves in hardware (F16C, with the AVX state it
// needs): eight values per instruction, exact like the table.
var hasF16C = cpu.X86.HasAVX && cpu.X86.HasF16C

//go:noescape
func halvesF16C(dst *float32, src *byte, n int)

// decodeHalves converts len(dst) little-endian binary16 values of src to float32; src holds
// at least 2*len(dst) bytes.
func decodeHalves(dst []float32, src []byte) {
	if n := len(dst) &^ 7; hasF16C && n > 0 {
		_ = src[2*n-1] // bounds check for the assembly
		halvesF16C(&dst[0], &src[0], n)
		dst, src = dst[n:], src[2*n:]
	}
	decodeHalvesTable(dst, src)
}
