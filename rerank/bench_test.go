package rerank

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
)

// BenchmarkCacheTokens reads K cached images' tokens of tiny-scenes' trained size (65 x 128)
// per iteration: the fetch stage of a reranked query, into a new buffer (Tokens) or a reused one
// (TokensInto, as the searcher does).
func BenchmarkCacheTokens(b *testing.B) {
	const n = 65 * 128
	for _, k := range []int{16, 128} {
		c, err := OpenTokenCache(CacheOptions{Dir: b.TempDir(), TokenLen: n})
		if err != nil {
			b.Fatal(err)
		}
		rs := make([]ImageRef, k)
		tok := make([]float32, n)
		for i := range rs {
			rs[i] = ImageRef{ContentID: uint64(i + 1)}
			for j := range tok { // spread over many fp16 values, as real tokens are
				tok[j] = float32((j*31+i)%997)/128 - 3
			}
			if err := c.Put(rs[i].ContentID, tok); err != nil {
				b.Fatal(err)
			}
		}
		buf := make([]float32, k*n)
		for _, reuse := range []bool{false, true} {
			name := fmt.Sprintf("k=%d", k)
			if reuse {
				name += "/reuse"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(k * (cacheHeader + 2*n)))
				for b.Loop() {
					var errs []error
					if reuse {
						_, errs = c.TokensInto(context.Background(), rs, buf, nil)
					} else {
						_, errs = c.Tokens(context.Background(), rs, nil)
					}
					if errs != nil {
						b.Fatal(errs)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/query")
			})
		}
	}
}

// BenchmarkHalfDecode converts one 65 x 128 token block of spread-out fp16 values (as real
// tokens are) through the cache's decode (F16C where the CPU has it) and through the table.
func BenchmarkHalfDecode(b *testing.B) {
	const n = 65 * 128
	c := &TokenCache{tokenLen: n}
	data := make([]byte, cacheHeader+2*n)
	copy(data, cacheMagic)
	binary.LittleEndian.PutUint32(data[4:], n)
	for j := range n {
		binary.LittleEndian.PutUint16(data[cacheHeader+2*j:], halfFromFloat(float32((j*31)%997)/128-3))
	}
	dst := make([]float32, n)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if !c.decode(data, dst) {
				b.Fatal("decode failed")
			}
		}
	})
	b.Run("table", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			decodeHalvesTable(dst, data[cacheHeader:])
		}
	})
}
