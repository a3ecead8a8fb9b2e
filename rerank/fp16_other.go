//go:build !amd64 || purego

package rerank

// decodeHalves converts len(dst) little-endian binary16 values of src to float32; src holds
// at least 2*len(dst) bytes.
func decodeHalves(dst []float32, src []byte) { decodeHalvesTable(dst, src) }

const hasF16C = false
