package indexer

import (
	"bytes"
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/library/librarytest"
	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/searcher"
)

// TestTokensEager: by default the default model's tokens are stored as images are embedded,
// one file per content (a duplicate adds none), equal within fp16 to what the vision encoder
// gives for the same file at query time; lazy stores none, and an unknown policy is refused.
func TestTokensEager(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, src, 0, 6, 96)
	dup, err := os.ReadFile(filepath.Join(src, "scene-00002.png"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "copy.png"), dup)
	m, info := testModel(t)
	lib := testLib(t, "")
	ix, err := New(lib, m, info, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Tokens() != TokensEager {
		t.Fatalf("default policy %q for the default model, want eager", ix.Tokens())
	}
	if _, err := ix.Add(context.Background(), []string{src}); err != nil {
		t.Fatal(err)
	}
	c := tokenCache(t, lib, ix)
	if c.Len() != 6 {
		t.Fatalf("%d token files for 6 contents (7 files, one a duplicate)", c.Len())
	}
	rec, err := lib.DB().ImageByPath(filepath.Join(src, "scene-00003.png"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(rec.ContentID)
	if !ok {
		t.Fatalf("no cached tokens for content %d", rec.ContentID)
	}
	img, _, err := image.Decode(bytes.NewReader(mustRead(t, rec.Path)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Vision.Encode(context.Background(), []image.Image{img}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	if worst := maxRelDiff(out.Tokens[0], got); worst > 2e-3 {
		t.Errorf("cached tokens differ from the encoder's by %.2g (relative), more than fp16 rounding", worst)
	}
	if s, err := LibraryStats(lib, info); err != nil || s.TokenFiles != 6 || s.TokenBytes <= 0 {
		t.Errorf("status: %d token files, %d bytes, %v", s.TokenFiles, s.TokenBytes, err)
	}
	// the first query after indexing reads every candidate's tokens: no vision encoder run
	s, err := searcher.New(lib.DB(), m, info, searcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), searcher.ImageQuery{Text: "a red circle",
		Params: searcher.Params{K: 7, MinScore: searcher.Float(0)}})
	if err != nil || len(res.Hits) != 7 || res.Timings.TokenEncode != 0 {
		t.Errorf("first query: %d hits, token encoding %.1f ms, %v; want 7 hits and none", len(res.Hits),
			res.Timings.TokenEncode, err)
	}

	lazy := testLib(t, "")
	lix, err := New(lazy, m, info, Options{Workers: 2, Tokens: TokensLazy})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lix.Add(context.Background(), []string{src}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(library.TokenDir(lazy.Dir(), lix.Namespace().Name(), info)); !os.IsNotExist(err) {
		t.Errorf("lazy policy made a token folder: %v", err)
	}
	ls, err := searcher.New(lazy.DB(), m, info, searcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = ls.Images(context.Background(), searcher.ImageQuery{Text: "a red circle",
		Params: searcher.Params{K: 7, MinScore: searcher.Float(0)}})
	if err != nil || res.Timings.TokenEncode == 0 {
		t.Errorf("first query over a lazy library: token encoding %.1f ms, %v; want the encoder run", res.Timings.TokenEncode, err)
	}
	if _, err := New(lazy, m, info, Options{Tokens: "sometimes"}); err == nil {
		t.Error("an unknown token policy was accepted")
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestTokensHEIC: a HEIC photo's tokens come from its own pixels (libheif), never from its
// thumbnail: stored at index time (the encoder's on the decoded HEIC, and the first query
// computes none), and recomputed from the original too when they are not cached.
func TestTokensHEIC(t *testing.T) {
	src := t.TempDir()
	data := mustRead(t, filepath.Join("testdata", "images", "sample.heic"))
	writeFile(t, filepath.Join(src, "photo.heic"), data)
	m, info := testModel(t)
	lib := testLib(t, "")
	ix, err := New(lib, m, info, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ix.Add(context.Background(), []string{src}); err != nil || s.Indexed != 1 {
		t.Fatalf("index: %+v %v", s, err)
	}
	rec, err := lib.DB().ImageByPath(filepath.Join(src, "photo.heic"))
	if err != nil {
		t.Fatal(err)
	}
	c := tokenCache(t, lib, ix)
	got, ok := c.Get(rec.ContentID)
	if !ok {
		t.Fatal("no cached tokens for the HEIC photo")
	}
	d, err := ix.decode(data, photo.FormatHEIF, true)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Vision.Encode(context.Background(), []image.Image{d.model}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	if worst := maxRelDiff(out.Tokens[0], got); worst > 2e-3 {
		t.Errorf("cached HEIC tokens differ from the encoder's on its own pixels by %.2g", worst)
	}
	s, err := searcher.New(lib.DB(), m, info, searcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), searcher.ImageQuery{Text: "a photo", Params: searcher.Params{K: 1, MinScore: searcher.Float(0)}})
	if err != nil || len(res.Hits) != 1 || res.Timings.TokenEncode != 0 {
		t.Errorf("first query: %d hits, token encoding %.1f ms, %v", len(res.Hits), res.Timings.TokenEncode, err)
	}
	// recomputed (lazy tokens, or an evicted file): from the original, with no fallback at hand
	rc := rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: 1})
	toks, errs := rc.Tokens(context.Background(), []rerank.ImageRef{{ContentID: rec.ContentID, Path: rec.Path}}, nil)
	if errs != nil && errs[0] != nil {
		t.Fatalf("recomputing the HEIC photo's tokens from its original: %v", errs[0])
	}
	if worst := maxRelDiff(out.Tokens[0], toks[0]); worst > 1e-4 {
		t.Errorf("recomputed HEIC tokens differ from the encoder's on its own pixels by %.2g", worst)
	}
}

// maxRelDiff is the largest |a-b| / max(1, |a|) over two equally long vectors.
func maxRelDiff(a, b []float32) float64 {
	var worst float64
	for i, v := range a {
		worst = max(worst, math.Abs(float64(v-b[i]))/max(1, math.Abs(float64(v))))
	}
	return worst
}

// TestTokensFilledOnRerun: a library indexed with lazy tokens (or one whose tokens were lost:
// a kill between a commit and its tokens, an eviction) gets them from an eager rerun, which
// reports every file unchanged and rewrites no record.
func TestTokensFilledOnRerun(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, src, 0, 5, 64)
	m, info := testModel(t)
	lib := testLib(t, "")
	if s, _ := run(t, lib, Options{Tokens: TokensLazy}, src); s.Indexed != 5 {
		t.Fatalf("lazy run: %+v", s)
	}
	before := librarytest.Paths(t, lib.DB())
	rec, err := lib.DB().ImageByPath(filepath.Join(src, "scene-00001.png"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := run(t, lib, Options{Tokens: TokensEager}, src)
	if s.Unchanged != 5 || s.Indexed != 0 {
		t.Fatalf("eager rerun: %+v, want every file unchanged", s)
	}
	ix, err := New(lib, m, info, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := tokenCache(t, lib, ix)
	if c.Len() != 5 || !c.Has(rec.ContentID) {
		t.Fatalf("%d token files after the eager rerun, want 5", c.Len())
	}
	after, err := lib.DB().ImageByPath(rec.Path)
	if err != nil || after.ID != rec.ID || after.Added != rec.Added || !slices.Equal(librarytest.Paths(t, lib.DB()), before) {
		t.Fatalf("the rerun rewrote records: %+v -> %+v (%v)", rec, after, err)
	}
	if s, _ := run(t, lib, Options{Tokens: TokensEager}, src); s.Unchanged != 5 {
		t.Fatalf("a third run: %+v", s)
	}
	// a cache at its budget is not refilled on reruns: that would only evict other photos' tokens
	other := testLib(t, "")
	run(t, other, Options{Tokens: TokensLazy}, src)
	tight := int64(8 + 2*m.Vision.TokenLen()) // room for one file
	dir := library.TokenDir(other.Dir(), ix.Namespace().Name(), info)
	cached := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "*.f16"))
		return names
	}
	run(t, other, Options{Tokens: TokensEager, TokenBudget: tight}, src)
	first := cached()
	if len(first) != 1 {
		t.Fatalf("a rerun into a cache with room for one left %d files", len(first))
	}
	for range 3 {
		run(t, other, Options{Tokens: TokensEager, TokenBudget: tight}, src)
		if got := cached(); !slices.Equal(got, first) {
			t.Fatalf("reruns into a full cache replace its files: %v, then %v", first, got)
		}
	}
}

// tokenCache opens the token cache ix fills in lib.
func tokenCache(tb testing.TB, lib *library.Library, ix *Indexer) *rerank.TokenCache {
	tb.Helper()
	c, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: library.TokenDir(lib.Dir(), ix.Namespace().Name(), ix.ns.Model()),
		TokenLen: ix.model.Vision.TokenLen()})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
