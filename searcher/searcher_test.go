package searcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// all is Params that rerank and return every candidate of the fixture.
var all = Params{K: 128, Limit: 1000, MinScore: Float(0)}

func checkSorted(t *testing.T, hits []ImageHit) {
	t.Helper()
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Fatalf("hit %d score %v > hit %d score %v", i, hits[i].Score, i-1, hits[i-1].Score)
		}
	}
}

func TestImages(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	res, err := s.Images(ctx, ImageQuery{Text: f.captions[5][0], Params: all})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != fixtureScenes || len(res.Hits) != fixtureScenes || res.Reranked != fixtureScenes || res.Reason != "" {
		t.Fatalf("total %d, hits %d, reranked %d, reason %q; want all %d", res.Total, len(res.Hits), res.Reranked,
			res.Reason, fixtureScenes)
	}
	checkSorted(t, res.Hits)
	seen := map[uint64]bool{}
	for _, h := range res.Hits {
		if h.PMatch == nil || *h.PMatch < 0 || *h.PMatch > 1 || h.ITC < -1.001 || h.ITC > 1.001 {
			t.Fatalf("bad hit %+v", h)
		}
		want := *h.PMatch // the bundle's rank: ITM, or ITM + ITC
		if res.Rank == RankITMITC {
			want += h.ITC
		}
		if math.Abs(h.Score-want) > 1e-6 {
			t.Fatalf("hit %+v: score %v, want %v (rank %s)", h, h.Score, want, res.Rank)
		}
		if h.Path == "" || seen[h.ImageID] {
			t.Fatalf("hit %+v: empty path or repeated", h)
		}
		seen[h.ImageID] = true
	}
	if tm := res.Timings; tm.TextEncode <= 0 || tm.Rerank <= 0 || tm.ANN <= 0 || tm.Total < tm.Model() {
		t.Fatalf("timings %+v", tm)
	}

	// itm+itc: the score is the sum; the order may change, the probabilities do not
	sum, err := s.Images(ctx, ImageQuery{Text: f.captions[5][0], Params: Params{K: 128, Limit: 1000, MinScore: Float(0), Rank: RankITMITC}})
	if err != nil {
		t.Fatal(err)
	}
	checkSorted(t, sum.Hits)
	for _, h := range sum.Hits {
		if math.Abs(h.Score-(*h.PMatch+h.ITC)) > 1e-6 {
			t.Fatalf("itm+itc hit %+v: score is not p_match + itc", h)
		}
	}

	// ITC only: ANN order, no probabilities, no threshold
	itc, err := s.Images(ctx, ImageQuery{Text: f.captions[5][0], Params: Params{NoRerank: true, Limit: 5, MinScore: Float(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(itc.Hits) != 5 || itc.Reranked != 0 || itc.MinScore != nil {
		t.Fatalf("itc only: %d hits, %d reranked, min score %v", len(itc.Hits), itc.Reranked, itc.MinScore)
	}
	for _, h := range itc.Hits {
		if h.PMatch != nil || h.Score != h.ITC {
			t.Fatalf("itc-only hit %+v", h)
		}
	}
	checkSorted(t, itc.Hits)
}

// The threshold applies to the ITM probability: above every probability nothing is left, with a
// reason; at zero every candidate is kept. (The placeholder model's probabilities are not
// meaningful, so the cut-offs are placed relative to the observed ones.)
func TestThreshold(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	q := f.captions[2][1]
	full, err := s.Images(ctx, ImageQuery{Text: q, Params: all})
	if err != nil {
		t.Fatal(err)
	}
	none, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{MinScore: Float(1.01)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.Hits) != 0 || none.Total != 0 || !strings.HasPrefix(none.Reason, ReasonNoConfident) {
		t.Fatalf("min score 1.01: %d hits, reason %q", len(none.Hits), none.Reason)
	}
	if none.Hits == nil {
		t.Fatal("hits is nil, want an empty list (JSON [])")
	}
	// a cut between the 3rd and 4th highest probabilities keeps exactly 3 (the hits are in the
	// bundle's rank order, which may add the ITC similarity, so sort the probabilities first)
	ps := make([]float64, len(full.Hits))
	for i, h := range full.Hits {
		ps[i] = *h.PMatch
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(ps)))
	p3, p4 := ps[2], ps[3]
	if p3 == p4 {
		t.Skip("tied probabilities")
	}
	some, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{MinScore: Float((p3 + p4) / 2), Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if some.Total != 3 || len(some.Hits) != 3 {
		t.Fatalf("min score between p3 and p4: total %d, want 3", some.Total)
	}
	// the default is the bundle's match threshold
	def, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if *def.MinScore != testModel(t).Manifest.MatchThreshold() {
		t.Fatalf("default min score %v", *def.MinScore)
	}
	for _, h := range def.Hits {
		if *h.PMatch < *def.MinScore {
			t.Fatalf("hit below the default threshold: %+v", h)
		}
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	q := f.captions[9][0]
	full, err := s.Images(ctx, ImageQuery{Text: q, Params: all})
	if err != nil {
		t.Fatal(err)
	}
	var paged []ImageHit
	for off := 0; off < fixtureScenes; off += 5 {
		pg, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{K: 128, Limit: 5, Offset: off, MinScore: Float(0)}})
		if err != nil {
			t.Fatal(err)
		}
		if pg.Total != full.Total || pg.Offset != off || pg.Limit != 5 {
			t.Fatalf("page at %d: total %d offset %d limit %d", off, pg.Total, pg.Offset, pg.Limit)
		}
		paged = append(paged, pg.Hits...)
	}
	if len(paged) != len(full.Hits) {
		t.Fatalf("pages hold %d hits, the full list %d", len(paged), len(full.Hits))
	}
	for i := range paged {
		if paged[i].ImageID != full.Hits[i].ImageID || paged[i].Score != full.Hits[i].Score {
			t.Fatalf("position %d: page %+v, full %+v", i, paged[i], full.Hits[i])
		}
	}
	past, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{Offset: 500, MinScore: Float(0)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(past.Hits) != 0 || !strings.HasPrefix(past.Reason, ReasonPastEnd) {
		t.Fatalf("offset past the end: %d hits, reason %q", len(past.Hits), past.Reason)
	}
	// with K below the candidates and no threshold, the unreranked tail follows in ITC order
	tail, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{K: 4, Depth: 10, Limit: 10, MinScore: Float(0)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tail.Hits) != 10 || tail.Reranked != 4 {
		t.Fatalf("k 4 depth 10: %d hits, %d reranked", len(tail.Hits), tail.Reranked)
	}
	for i, h := range tail.Hits {
		if (i < 4) != (h.PMatch != nil) {
			t.Fatalf("hit %d reranked %v", i, h.PMatch != nil)
		}
		if i > 4 && h.ITC > tail.Hits[i-1].ITC {
			t.Fatalf("tail not in ITC order at %d", i)
		}
	}
}

func TestFilters(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	tests := []struct {
		name   string
		filter Filter
		want   func(i int) bool
	}{
		{"2024", Filter{From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
			func(i int) bool { return i%2 == 1 }},
		{"first half of 2023", Filter{From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)},
			func(i int) bool { return i%2 == 0 && sceneDate(i).Month() < 7 }},
		{"folder a", Filter{Folder: filepath.Join(f.dir, "photos", "a") + "/"}, func(i int) bool { return i%2 == 0 }},
		{"folder b in 2023", Filter{Folder: filepath.Join(f.dir, "photos", "b") + "/", To: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
			func(int) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := map[uint64]bool{}
			for i, id := range f.images {
				if tc.want(i) {
					want[id] = true
				}
			}
			res, err := s.Images(ctx, ImageQuery{Text: "a red circle", Params: all, Filter: tc.filter})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) != len(want) {
				t.Fatalf("%d hits, want %d (reason %q)", len(res.Hits), len(want), res.Reason)
			}
			for _, h := range res.Hits {
				if !want[h.ImageID] {
					t.Fatalf("hit %d (%s) fails the filter", h.ImageID, h.Path)
				}
			}
			if len(want) == 0 && res.Reason != ReasonFiltered {
				t.Fatalf("reason %q, want %q", res.Reason, ReasonFiltered)
			}
			sim, err := s.Similar(ctx, SimilarQuery{ImageInput: ImageInput{ImageID: f.images[0]}, Params: all, Filter: tc.filter})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range sim.Hits {
				if !want[h.ImageID] {
					t.Fatalf("similar: hit %d fails the filter", h.ImageID)
				}
			}
		})
	}
}

func TestSimilar(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	const q = 3
	byFile, err := s.Similar(ctx, SimilarQuery{ImageInput: ImageInput{Image: f.sceneImage(t, s, q)}, Params: all})
	if err != nil {
		t.Fatal(err)
	}
	if len(byFile.Hits) != fixtureScenes || byFile.Hits[0].ImageID != f.images[q] || byFile.Hits[0].ITC < 0.999 {
		t.Fatalf("by file: %d hits, first %+v; want all, the query image first with ITC 1", len(byFile.Hits), byFile.Hits[0])
	}
	checkSorted(t, byFile.Hits)
	if byFile.Timings.ImageEncode <= 0 {
		t.Fatalf("timings %+v", byFile.Timings)
	}
	byID, err := s.Similar(ctx, SimilarQuery{ImageInput: ImageInput{ImageID: f.images[q]}, Params: all})
	if err != nil {
		t.Fatal(err)
	}
	if len(byID.Hits) != fixtureScenes-1 {
		t.Fatalf("by id: %d hits, want %d (all but the query)", len(byID.Hits), fixtureScenes-1)
	}
	for i, h := range byID.Hits {
		if h.ImageID == f.images[q] {
			t.Fatal("by id: the query image is in the result")
		}
		// the same ranking as by file, less the query image
		if w := byFile.Hits[i+1]; w.ImageID != h.ImageID || math.Abs(w.ITC-h.ITC) > 1e-4 {
			t.Fatalf("by id hit %d = %+v, by file %+v", i, h, w)
		}
	}
}

func TestCaptions(t *testing.T) {
	f := newFixture(t, true)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	const q = 7
	nTexts := len(f.texts)
	for _, tc := range []struct {
		name string
		in   ImageInput
	}{
		{"by file", ImageInput{Image: f.sceneImage(t, s, q)}},
		{"by id", ImageInput{ImageID: f.images[q]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Captions(ctx, CaptionQuery{ImageInput: tc.in, Params: Params{K: 1024, Limit: 1000, MinScore: Float(0)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) != nTexts || res.Reranked != nTexts {
				t.Fatalf("%d hits, %d reranked; want %d", len(res.Hits), res.Reranked, nTexts)
			}
			for i, h := range res.Hits {
				if h.PMatch == nil || h.Text == "" || (i > 0 && h.Score > res.Hits[i-1].Score) {
					t.Fatalf("hit %d: %+v", i, h)
				}
			}
			if res.Timings.TextEncode <= 0 || res.Timings.Rerank <= 0 {
				t.Fatalf("timings %+v", res.Timings)
			}
			none, err := s.Captions(ctx, CaptionQuery{ImageInput: tc.in, Params: Params{MinScore: Float(1.01)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(none.Hits) != 0 || !strings.HasPrefix(none.Reason, ReasonNoConfident) {
				t.Fatalf("min score 1.01: %d hits, reason %q", len(none.Hits), none.Reason)
			}
		})
	}
	// the same probabilities as scoring each pair alone
	res, err := s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: f.images[q]}, Params: Params{K: 8, Limit: 8, MinScore: Float(0)}})
	if err != nil {
		t.Fatal(err)
	}
	img := f.sceneImage(t, s, q)
	for _, h := range res.Hits[:3] {
		e, err := s.Explain(ctx, ExplainQuery{ImageInput: ImageInput{Image: img}, Text: h.Text})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(e.PMatch-*h.PMatch) > 2e-3 { // fp16 cached tokens against fresh ones
			t.Fatalf("%q: p_match %v in the list, %v alone", h.Text, *h.PMatch, e.PMatch)
		}
	}
}

// Both token strategies rank alike; the cache fills on the first query and hits afterwards.
func TestTokenStrategies(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	q := ImageQuery{Text: f.captions[1][0], Params: all}
	re, err := f.searcher(t, Options{Tokens: TokensRecompute}).Images(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	s := f.searcher(t, Options{Tokens: TokensCache, CacheDir: filepath.Join(t.TempDir(), "tokens")})
	for pass := range 2 {
		c, err := s.Images(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.Hits {
			if d := math.Abs(*c.Hits[i].PMatch - *re.Hits[i].PMatch); d > 2e-3 {
				t.Fatalf("pass %d hit %d: cache p %v, recompute p %v", pass, i, *c.Hits[i].PMatch, *re.Hits[i].PMatch)
			}
		}
		if pass == 1 && c.Timings.TokenEncode != 0 {
			t.Fatalf("second pass ran the vision encoder (%v ms): cache missed", c.Timings.TokenEncode)
		}
	}
}

// A candidate whose file is gone is kept unreranked with a warning; the query does not fail.
func TestMissingFile(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{Tokens: TokensRecompute})
	if err := os.Remove(f.paths[4]); err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), ImageQuery{Text: f.captions[4][0], Params: all})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != fixtureScenes || res.Reranked != fixtureScenes-1 || len(res.Warnings) != 1 {
		t.Fatalf("%d hits, %d reranked, warnings %q", len(res.Hits), res.Reranked, res.Warnings)
	}
	last := res.Hits[len(res.Hits)-1]
	if last.ImageID != f.images[4] || last.PMatch != nil {
		t.Fatalf("last hit %+v: want the missing image, unreranked", last)
	}
	// with a threshold it cannot be shown
	thr, err := s.Images(context.Background(), ImageQuery{Text: f.captions[4][0], Params: Params{MinScore: Float(1e-9), Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range thr.Hits {
		if h.ImageID == f.images[4] {
			t.Fatal("unreranked image shown past a threshold")
		}
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	m := testModel(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		run    func() (any, error)
		err    error  // wanted error (errors.Is), or nil
		reason string // wanted reason prefix of an empty answer
	}{
		{"empty query", func() (any, error) { return s.Images(ctx, ImageQuery{Text: ""}) }, ErrInput, ""},
		{"blank query", func() (any, error) { return s.Images(ctx, ImageQuery{Text: " \t\n "}) }, ErrInput, ""},
		{"100 KB query", func() (any, error) {
			return s.Images(ctx, ImageQuery{Text: strings.Repeat("a red circle left of a blue square ", 3000), Params: Params{MinScore: Float(0)}})
		}, nil, ""},
		{"k 0 is the default", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{K: 0}}) }, nil, ""},
		{"k -1", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{K: -1}}) }, ErrInput, ""},
		{"k 1025", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{K: 1025}}) }, ErrInput, ""},
		{"limit 1001", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{Limit: 1001}}) }, ErrInput, ""},
		{"limit -3", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{Limit: -3}}) }, ErrInput, ""},
		{"offset -1", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{Offset: -1}}) }, ErrInput, ""},
		{"min score NaN", func() (any, error) {
			return s.Images(ctx, ImageQuery{Text: "x", Params: Params{MinScore: Float(math.NaN())}})
		}, ErrInput, ""},
		{"rank bogus", func() (any, error) { return s.Images(ctx, ImageQuery{Text: "x", Params: Params{Rank: "bm25"}}) }, ErrInput, ""},
		{"empty date range", func() (any, error) {
			d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			return s.Images(ctx, ImageQuery{Text: "x", Filter: Filter{From: d, To: d}})
		}, ErrInput, ""},
		{"undecodable image", func() (any, error) { return s.Decode(bytes.NewReader([]byte("not an image at all"))) },
			encoder.ErrUnsupportedImage, ""},
		{"no query image", func() (any, error) { return s.Similar(ctx, SimilarQuery{}) }, ErrInput, ""},
		{"unknown image id", func() (any, error) {
			return s.Similar(ctx, SimilarQuery{ImageInput: ImageInput{ImageID: 99999}})
		}, store.ErrNotFound, ""},
		{"no text index yet", func() (any, error) {
			return s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: f.images[0]}})
		}, nil, ReasonNoTexts},
		{"nothing indexed", func() (any, error) {
			db, err := store.Open(filepath.Join(t.TempDir(), "empty.db"), store.Options{NoSync: true})
			if err != nil {
				return nil, err
			}
			defer db.Close()
			e, err := New(db, m, testInfo(t), Options{CacheDir: t.TempDir()})
			if err != nil {
				return nil, err
			}
			return e.Images(ctx, ImageQuery{Text: "a red circle"})
		}, nil, ReasonNoIndex},
		{"empty image index", func() (any, error) {
			db, err := store.Open(filepath.Join(t.TempDir(), "empty.db"), store.Options{NoSync: true})
			if err != nil {
				return nil, err
			}
			defer db.Close()
			if _, err := db.Namespace(testInfo(t), store.NamespaceOptions{}); err != nil {
				return nil, err
			}
			e, err := New(db, m, testInfo(t), Options{CacheDir: t.TempDir()})
			if err != nil {
				return nil, err
			}
			return e.Images(ctx, ImageQuery{Text: "a red circle"})
		}, nil, ReasonNoImages},
		{"model dimension differs from the index", func() (any, error) {
			db, err := store.Open(filepath.Join(t.TempDir(), "other.db"), store.Options{NoSync: true})
			if err != nil {
				return nil, err
			}
			defer db.Close()
			other := store.ModelInfo{Name: m.Manifest.Name, Dim: m.Manifest.EmbeddingDim + 7, BundleHash: "other"}
			if _, err := db.Namespace(other, store.NamespaceOptions{}); err != nil {
				return nil, err
			}
			return New(db, m, testInfo(t), Options{CacheDir: t.TempDir()})
		}, store.ErrModelMismatch, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.run()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			reason := ""
			switch r := got.(type) {
			case *ImageResult:
				reason = r.Reason
				if tc.reason != "" && len(r.Hits) != 0 {
					t.Fatalf("%d hits with reason %q", len(r.Hits), r.Reason)
				}
			case *TextResult:
				reason = r.Reason
			}
			if !strings.HasPrefix(reason, tc.reason) {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   ImageInput
	}{
		{"by file", ImageInput{Image: f.sceneImage(t, s, 2)}},
		{"by id", ImageInput{ImageID: f.images[2]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := s.Explain(ctx, ExplainQuery{ImageInput: tc.in, Text: f.captions[2][0]})
			if err != nil {
				t.Fatal(err)
			}
			g := testModel(t).Manifest.Dims.PatchGrid
			if e.Grid != g || len(e.Heat) != g*g || e.PMatch < 0 || e.PMatch > 1 {
				t.Fatalf("grid %d, %d heat values, p %v", e.Grid, len(e.Heat), e.PMatch)
			}
			lo, hi := float32(1), float32(0)
			for _, v := range e.Heat {
				lo, hi = min(lo, v), max(hi, v)
			}
			if lo != 0 || hi != 1 {
				t.Fatalf("heat range [%v, %v], want [0, 1]", lo, hi)
			}
			var buf bytes.Buffer
			if err := e.WritePNG(&buf); err != nil {
				t.Fatal(err)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
			if err != nil || format != "png" || cfg.Width != 96 || cfg.Height != 96 {
				t.Fatalf("overlay: %v, %s %dx%d; want a 96x96 png", err, format, cfg.Width, cfg.Height)
			}
		})
	}
	if _, err := s.Explain(ctx, ExplainQuery{ImageInput: ImageInput{ImageID: f.images[0]}, Text: "  "}); !errors.Is(err, ErrInput) {
		t.Fatalf("blank text: %v", err)
	}
	// another file put at an indexed path is not explained as that image
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(f.paths[1], later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Explain(ctx, ExplainQuery{ImageInput: ImageInput{ImageID: f.images[1]}, Text: "a circle"}); !errors.Is(err, rerank.ErrUnavailable) {
		t.Fatalf("explain of a changed file: %v, want ErrUnavailable", err)
	}
}

func TestHeatMap(t *testing.T) {
	// 2 text tokens (one padding), CLS + 2x2 patches
	cross := []float32{
		9, 1, 2, 3, 4,
		9, 100, 100, 100, 0, // padding row: ignored
	}
	got := heatMap(cross, []int64{1, 0}, 5, 2)
	want := []float32{0, 1.0 / 3, 2.0 / 3, 1}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("heat %v, want %v", got, want)
		}
	}
}

// Queries of every mode run in parallel on one searcher while its token cache fills.
func TestConcurrentQueries(t *testing.T) {
	f := newFixture(t, true)
	s := f.searcher(t, Options{CacheBudget: 20 * int64(testModel(t).Vision.TokenLen())}) // ~10 of 24 images: evictions too
	want, err := f.searcher(t, Options{Tokens: TokensRecompute}).Images(context.Background(), ImageQuery{Text: f.captions[0][0], Params: all})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			ctx := context.Background()
			var err error
			for i := range 4 {
				switch (g + i) % 3 {
				case 0:
					var r *ImageResult
					if r, err = s.Images(ctx, ImageQuery{Text: f.captions[0][0], Params: all}); err == nil {
						for j := range r.Hits {
							if r.Hits[j].ImageID != want.Hits[j].ImageID && math.Abs(*r.Hits[j].PMatch-*want.Hits[j].PMatch) > 2e-3 {
								err = errors.New("parallel query ranked differently")
							}
						}
					}
				case 1:
					_, err = s.Similar(ctx, SimilarQuery{ImageInput: ImageInput{ImageID: f.images[i]}})
				case 2:
					_, err = s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: f.images[g]}, Params: Params{K: 16}})
				}
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestOrder(t *testing.T) {
	cs := []cand{
		{i: 0, itc: 0.9, p: 0.2, reranked: true},
		{i: 1, itc: 0.8, p: 0.7, reranked: true},
		{i: 2, itc: 0.7, p: 0.7, reranked: true}, // ties with 1 on p: the higher ITC first
		{i: 3, itc: 0.6, p: 0.4, reranked: true},
		{i: 4, itc: 0.5},
		{i: 5, itc: 0.4},
	}
	tests := []struct {
		name string
		p    params
		want []int
		best float64
	}{
		{"itm, no threshold: reranked by p, then the tail", params{rank: RankITM}, []int{1, 2, 3, 0, 4, 5}, 0.7},
		{"itm, threshold 0.5", params{rank: RankITM, min: 0.5}, []int{1, 2}, 0.7},
		{"itm+itc", params{rank: RankITMITC}, []int{1, 2, 0, 3, 4, 5}, 0.7},
		{"nothing passes", params{rank: RankITM, min: 0.9}, nil, 0.7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, best := tc.p.order(cs)
			var got []int
			for _, c := range list {
				got = append(got, c.i)
			}
			if !slices.Equal(got, tc.want) || math.Abs(best-tc.best) > 1e-6 {
				t.Fatalf("order %v best %v, want %v best %v", got, best, tc.want, tc.best)
			}
		})
	}
}

// Every error names the package once, and context the store already gives is not repeated.
func TestErrorMessages(t *testing.T) {
	f := newFixture(t, true)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	missing := ImageInput{ImageID: 99999}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"input", func() error { _, err := s.Images(ctx, ImageQuery{Text: " "}); return err },
			"searcher: invalid query: the query text is empty"},
		{"similar of a missing image", func() error { _, err := s.Similar(ctx, SimilarQuery{ImageInput: missing}); return err },
			"searcher: image 99999: store: not found"},
		{"captions of a missing image", func() error { _, err := s.Captions(ctx, CaptionQuery{ImageInput: missing}); return err },
			"searcher: image 99999: store: not found"},
		{"explain of a missing image", func() error {
			_, err := s.Explain(ctx, ExplainQuery{ImageInput: missing, Text: "x"})
			return err
		}, "searcher: image 99999: store: not found"},
		{"undecodable upload", func() error { _, err := s.Decode(strings.NewReader("not an image")); return err },
			"searcher: query image: "},
		{"eval of a missing image", func() error {
			_, err := s.Evaluate(ctx, EvalSet{Images: []uint64{99999}}, EvalOptions{})
			return err
		}, "searcher: eval: texts for image 99999: image 99999: store: not found"},
		{"eval with bad parameters", func() error {
			_, err := s.Evaluate(ctx, EvalSet{Images: f.images[:1]}, EvalOptions{K: MaxK + 1})
			return err
		}, "searcher: eval: texts for image " + strconv.FormatUint(f.images[0], 10) + ": invalid query: k 1025 is outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to begin %q", err, tc.want)
			}
			if n := strings.Count(err.Error(), "searcher:"); n != 1 {
				t.Fatalf("%q names the package %d times", err, n)
			}
		})
	}
	err := withContext(fmt.Errorf("%w: k 0", ErrInput), "eval: images for caption %d", 3)
	if !errors.Is(err, ErrInput) || err.Error() != "searcher: eval: images for caption 3: invalid query: k 0" {
		t.Fatalf("withContext: %v", err)
	}
}
