package rerank

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeSource returns tokens [id, id, ...] and counts calls; ids in fail are unavailable.
type fakeSource struct {
	n     int
	calls int
	fail  map[uint64]bool
}

func (f *fakeSource) Tokens(_ context.Context, refs []ImageRef, st *Stats) ([][]float32, []error) {
	f.calls++
	out := make([][]float32, len(refs))
	var errs []error
	for i, r := range refs {
		if f.fail[r.ContentID] {
			if errs == nil {
				errs = make([]error, len(refs))
			}
			errs[i] = ErrUnavailable
			continue
		}
		out[i] = make([]float32, f.n)
		for j := range out[i] {
			out[i][j] = float32(r.ContentID) + 0.25
		}
	}
	if st != nil {
		st.Misses += len(refs)
	}
	return out, errs
}

func refs(ids ...uint64) []ImageRef {
	out := make([]ImageRef, len(ids))
	for i, id := range ids {
		out[i] = ImageRef{ContentID: id}
	}
	return out
}

func TestTokenCache(t *testing.T) {
	const n = 10
	dir := t.TempDir()
	fill := &fakeSource{n: n, fail: map[uint64]bool{9: true}}
	per := int64(cacheHeader + 2*n)
	c, err := OpenTokenCache(CacheOptions{Dir: dir, TokenLen: n, Budget: 3 * per, Fill: fill})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var st Stats
	toks, errs := c.Tokens(ctx, refs(1, 2, 9), &st)
	if errs == nil || !errors.Is(errs[2], ErrUnavailable) || errs[0] != nil || toks[0][0] != 1.25 || toks[1][3] != 2.25 {
		t.Fatalf("first fetch: tokens %v, errs %v", toks, errs)
	}
	if st.Hits != 0 || st.Misses != 3 || c.Len() != 2 || c.Size() != 2*per {
		t.Fatalf("stats %+v, len %d, size %d", st, c.Len(), c.Size())
	}
	st = Stats{}
	if _, errs := c.Tokens(ctx, refs(1, 2), &st); errs != nil || st.Hits != 2 || fill.calls != 1 {
		t.Fatalf("second fetch: errs %v, stats %+v, fill calls %d", errs, st, fill.calls)
	}
	// 1 is used again, then 3 and 4 arrive: 2 is least recently used and goes first
	c.Get(1)
	if err := c.Put(3, make([]float32, n)); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(4, make([]float32, n)); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 3 || c.Size() != 3*per {
		t.Fatalf("len %d size %d after eviction", c.Len(), c.Size())
	}
	if _, ok := c.Get(2); ok {
		t.Fatal("least recently used entry 2 survived")
	}
	for _, id := range []uint64{1, 3, 4} {
		if _, ok := c.Get(id); !ok {
			t.Fatalf("entry %d evicted", id)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, fileName(2))); !os.IsNotExist(err) {
		t.Fatalf("evicted file still there: %v", err)
	}
	if err := c.Put(5, make([]float32, n-1)); !errors.Is(err, ErrInput) {
		t.Fatalf("short tokens: %v", err)
	}

	// a damaged file is a miss, refilled; a reopen finds the files
	if err := os.WriteFile(filepath.Join(dir, fileName(3)), []byte("GTK1junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(3); ok {
		t.Fatal("damaged file read as a hit")
	}
	good, err := os.ReadFile(filepath.Join(dir, fileName(4)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fileName(4)), append(good, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(4); ok {
		t.Fatal("file with a trailing byte read as a hit")
	}
	if err := c.Put(4, make([]float32, n)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tmp123"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := OpenTokenCache(CacheOptions{Dir: dir, TokenLen: n, Budget: 3 * per})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Len() != 2 {
		t.Fatalf("reopened cache holds %d entries, want 2 (1 and 4)", c2.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp123")); !os.IsNotExist(err) {
		t.Fatal("temporary file of an interrupted write kept")
	}
	// without a fill, a miss is unavailable
	if _, errs := c2.Tokens(ctx, refs(7), nil); errs == nil || !errors.Is(errs[0], ErrUnavailable) {
		t.Fatalf("miss without fill: %v", errs)
	}
	// another model's files (other token length) are misses
	c3, err := OpenTokenCache(CacheOptions{Dir: dir, TokenLen: n + 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c3.Get(1); ok {
		t.Fatal("file of another token length read as a hit")
	}
	if _, err := OpenTokenCache(CacheOptions{TokenLen: n}); err == nil {
		t.Fatal("cache without a folder opened")
	}
}

// TestTokenCacheSharedFolder: tokens another cache on the same folder stores after this one
// opened (the indexer writing as it embeds, a server reading) are hits, counted in the budget,
// and never recomputed.
func TestTokenCacheSharedFolder(t *testing.T) {
	const n = 6
	dir := t.TempDir()
	fill := &fakeSource{n: n}
	reader, err := OpenTokenCache(CacheOptions{Dir: dir, TokenLen: n, Fill: fill})
	if err != nil {
		t.Fatal(err)
	}
	writer, err := OpenTokenCache(CacheOptions{Dir: dir, TokenLen: n})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 2, 3, 4, 5, 6}
	if err := writer.Put(42, want); err != nil {
		t.Fatal(err)
	}
	var st Stats
	toks, errs := reader.Tokens(context.Background(), refs(42, 7), &st)
	if errs != nil || st.Hits != 1 || fill.calls != 1 || toks[0][5] != 6 || toks[1][0] != 7.25 {
		t.Fatalf("tokens %v, errs %v, stats %+v, fill calls %d", toks, errs, st, fill.calls)
	}
	if reader.Len() != 2 || reader.Size() != 2*int64(cacheHeader+2*n) {
		t.Fatalf("the adopted file is not counted: len %d, size %d", reader.Len(), reader.Size())
	}
}
