package rerank

import (
	"encoding/binary"
	"testing"
)

// FuzzDecode: a cache file's bytes (the disk is not trusted to hold what was written) never
// panic the decoder, and only a well-formed file of the right length is accepted.
func FuzzDecode(f *testing.F) {
	const n = 6
	good := make([]byte, cacheHeader+2*n)
	copy(good, cacheMagic)
	binary.LittleEndian.PutUint32(good[4:], n)
	f.Add(good)
	f.Add([]byte("GTK1"))
	f.Add([]byte{})
	f.Add(append(good, 0))
	c := &TokenCache{tokenLen: n}
	f.Fuzz(func(t *testing.T, data []byte) {
		if c.decode(data, make([]float32, n)) && (len(data) != len(good) || string(data[:4]) != cacheMagic) {
			t.Fatalf("accepted %d bytes", len(data))
		}
	})
}
