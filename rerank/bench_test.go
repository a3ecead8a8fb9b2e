package rerank

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
)

// BenchmarkCacheTokens reads K cached images' tokens of tiny-scenes' trained size (65 x 128)
// per iteration: the fetch stage of a reranked query.
func BenchmarkCacheTokens(b *testing.B) {
	const n = 65 * 128
	for _, k := range []int{16, 128} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			c, err := OpenTokenCache(CacheOptions{Dir: b.TempDir(), TokenLen: n, Fill: &fakeSource{n: n}})
			if err != nil {
				b.Fatal(err)
			}
			rs := make([]ImageRef, k)
			for i := range rs {
				rs[i] = ImageRef{ContentID: uint64(i + 1)}
			}
			if _, errs := c.Tokens(context.Background(), rs, nil); errs != nil {
				b.Fatal(errs)
			}
			b.SetBytes(int64(k * (cacheHeader + 2*n)))
			for b.Loop() {
				if _, errs := c.Tokens(context.Background(), rs, nil); errs != nil {
					b.Fatal(errs)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/query")
		})
	}
}

// BenchmarkHalfDecode converts one 65 x 128 token block from fp16.
func BenchmarkHalfDecode(b *testing.B) {
	const n = 65 * 128
	c := &TokenCache{tokenLen: n}
	data := make([]byte, cacheHeader+2*n)
	copy(data, cacheMagic)
	binary.LittleEndian.PutUint32(data[4:], n)
	b.SetBytes(int64(len(data)))
	dst := make([]float32, n)
	for b.Loop() {
		if !c.decode(data, dst) {
			b.Fatal("decode failed")
		}
	}
}
