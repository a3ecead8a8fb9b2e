package searcher

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// fetchLibrary is a store of n images (ids 1..n) over contents images with random vectors; no
// model is needed to read their records.
func fetchLibrary(tb testing.TB, n, contents int) *store.DB {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "glimpse.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ns, err := db.Namespace(store.ModelInfo{Name: "fetch", Dim: 8, BundleHash: "fetch"}, store.NamespaceOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	const batch = 10_000
	for start := 0; start < n; start += batch {
		var b []store.NewImage
		for i := start; i < min(start+batch, n); i++ {
			var sha [32]byte
			binary.BigEndian.PutUint64(sha[:], uint64(i%contents)+1)
			im := store.NewImage{Record: store.ImageRecord{Path: fmt.Sprintf("/fetch/%d.png", i), SHA256: sha}}
			if i < contents {
				im.Vector = []float32{float32(i), 1, 2, 3, 4, 5, 6, 7}
			}
			b = append(b, im)
		}
		if _, err := ns.AddImages(b); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

func imageHits(ids ...uint64) []store.ImageHit {
	out := make([]store.ImageHit, len(ids))
	for i, id := range ids {
		out[i] = store.ImageHit{ImageID: id, Score: float32(len(ids) - i)}
	}
	return out
}

func TestRecords(t *testing.T) {
	db := fetchLibrary(t, 8, 8)
	for _, id := range []uint64{2, 5} {
		if err := db.DeleteImage(id); err != nil {
			t.Fatal(err)
		}
	}
	s := &Searcher{db: db}
	tests := []struct {
		name     string
		hits     []uint64
		n        int
		wantHits []uint64
		wantRead int // records set for wantHits[:wantRead]
	}{
		{"all found", []uint64{1, 3, 4, 6}, 3, []uint64{1, 3, 4, 6}, 3},
		{"deleted replaced by the next", []uint64{1, 2, 3, 4, 6}, 3, []uint64{1, 3, 4, 6}, 3},
		{"deleted, and its replacement too", []uint64{2, 1, 3, 5, 4, 6}, 3, []uint64{1, 3, 4, 6}, 3},
		{"too few left", []uint64{2, 1, 5}, 3, []uint64{1}, 1},
		{"all deleted", []uint64{2, 5}, 2, []uint64{}, 0},
		{"deleted past n kept for the page", []uint64{1, 3, 5}, 2, []uint64{1, 3, 5}, 2},
		{"none to read", []uint64{1, 2}, 0, []uint64{1, 2}, 0},
		{"no hits", nil, 3, []uint64{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, recs, err := s.records(imageHits(tc.hits...), tc.n)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, h := range hits {
				got = append(got, h.ImageID)
			}
			if !slices.Equal(got, tc.wantHits) {
				t.Fatalf("hits %v, want %v", got, tc.wantHits)
			}
			if len(recs) != len(hits) {
				t.Fatalf("%d records for %d hits", len(recs), len(hits))
			}
			for i, r := range recs {
				switch {
				case i < tc.wantRead && (r == nil || r.ID != hits[i].ImageID):
					t.Fatalf("record %d: %+v, want image %d", i, r, hits[i].ImageID)
				case i >= tc.wantRead && r != nil:
					t.Fatalf("record %d read: %+v", i, r)
				}
			}
			// the page reads the rest; a deleted one keeps no record
			page := make([]cand, len(hits))
			for i := range page {
				page[i] = cand{i: i}
			}
			if err := s.pageRecords(hits, recs, page); err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				deleted := hits[i].ImageID == 2 || hits[i].ImageID == 5
				if (r == nil) != deleted || (r != nil && r.ID != hits[i].ImageID) {
					t.Fatalf("page record %d (image %d): %+v", i, hits[i].ImageID, r)
				}
			}
		})
	}
}

// BenchmarkFetch reads K = 128 candidates' records and cached tokens (tiny-scenes' 65 x 128)
// among 100,000 images, as a reranked text->image query does: per-record reads and a new token
// buffer per query (before) against one read transaction and a reused buffer.
func BenchmarkFetch(b *testing.B) {
	const n, contents, k, tokenLen = 100_000, 1024, 128, 65 * 128
	db := fetchLibrary(b, n, contents)
	cache, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: b.TempDir(), TokenLen: tokenLen})
	if err != nil {
		b.Fatal(err)
	}
	s := &Searcher{db: db, src: cache}
	hits := make([]store.ImageHit, k)
	for i := range hits {
		hits[i] = store.ImageHit{ImageID: uint64(1 + (i*7919)%n)}
		r, err := db.Image(hits[i].ImageID)
		if err != nil {
			b.Fatal(err)
		}
		tok := make([]float32, tokenLen)
		for j := range tok {
			tok[j] = float32((j*31+i)%97)/16 - 3
		}
		if err := cache.Put(r.ContentID, tok); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.Run("per-record", func(b *testing.B) {
		for b.Loop() {
			recs := make([]*store.ImageRecord, k)
			for i, h := range hits {
				if recs[i], err = s.record(h.ImageID); err != nil {
					b.Fatal(err)
				}
			}
			refs := make([]rerank.ImageRef, k)
			for i, r := range recs {
				refs[i] = s.ref(r)
			}
			if _, errs := cache.Tokens(ctx, refs, nil); errs != nil {
				b.Fatal(errs)
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			_, recs, err := s.records(slices.Clone(hits), k)
			if err != nil {
				b.Fatal(err)
			}
			refs := make([]rerank.ImageRef, k)
			for i, r := range recs {
				refs[i] = s.ref(r)
			}
			_, errs, release := s.tokens(ctx, refs, nil)
			if errs != nil {
				b.Fatal(errs)
			}
			release()
		}
	})
}

// The slab free list hands back a kept buffer big enough for the request, keeps at most
// maxFreeSlabs and lets the smallest go first.
func TestSlabs(t *testing.T) {
	var p slabs
	a := p.get(100)
	if len(*a) != 100 {
		t.Fatalf("len %d", len(*a))
	}
	p.put(a)
	if b := p.get(60); b != a || len(*b) != 60 {
		t.Fatalf("a kept buffer of cap %d was not reused for 60 floats", cap(*a))
	}
	p.put(a)
	if b := p.get(200); b == a || len(*b) != 200 {
		t.Fatal("a too small buffer was handed out")
	} else {
		p.put(b)
	}
	for i := range maxFreeSlabs + 2 {
		s := make([]float32, 300+i)
		p.put(&s)
	}
	if len(p.free) != maxFreeSlabs {
		t.Fatalf("%d free slabs kept, want %d", len(p.free), maxFreeSlabs)
	}
	for _, f := range p.free {
		if cap(*f) < 300 {
			t.Fatalf("kept a %d-float slab over larger ones", cap(*f))
		}
	}
}
