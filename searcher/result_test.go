package searcher

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/store"
)

// NoConfidentMatch is set only when candidates were reranked and none reached the minimum
// score; every other empty answer says why in Reason and leaves it false.
func TestNoConfidentMatch(t *testing.T) {
	f := newFixture(t, true)
	s := f.searcher(t, Options{})
	m, info := testModel(t), testInfo(t)
	ctx := context.Background()
	q := f.captions[3][0]
	byID := ImageInput{ImageID: f.images[3]}
	future := Filter{From: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	emptyNamespace := func(t *testing.T, create bool) *Searcher {
		db, err := store.Open(filepath.Join(t.TempDir(), "empty.db"), store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if create {
			if _, err := db.Namespace(info, store.NamespaceOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		e, err := New(db, m, info, Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tests := []struct {
		name    string
		run     func(t *testing.T) (Page, int, error)
		noMatch bool
		reason  string // prefix; "" for a non-empty answer
	}{
		{"images under the threshold", func(*testing.T) (Page, int, error) {
			r, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{MinScore: Float(1.01)}})
			return pageOf(r, err)
		}, true, ReasonNoConfident},
		{"texts under the threshold", func(*testing.T) (Page, int, error) {
			r, err := s.Captions(ctx, CaptionQuery{ImageInput: byID, Params: Params{MinScore: Float(1.01)}})
			return textPageOf(r, err)
		}, true, ReasonNoConfident},
		{"images, no threshold", func(*testing.T) (Page, int, error) {
			r, err := s.Images(ctx, ImageQuery{Text: q, Params: all})
			return pageOf(r, err)
		}, false, ""},
		{"texts, no threshold", func(*testing.T) (Page, int, error) {
			r, err := s.Captions(ctx, CaptionQuery{ImageInput: byID, Params: Params{MinScore: Float(0)}})
			return textPageOf(r, err)
		}, false, ""},
		{"ITC only, whatever the threshold", func(*testing.T) (Page, int, error) {
			r, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{NoRerank: true, MinScore: Float(2)}})
			return pageOf(r, err)
		}, false, ""},
		{"filters exclude every image", func(*testing.T) (Page, int, error) {
			r, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{MinScore: Float(1.01)}, Filter: future})
			return pageOf(r, err)
		}, false, ReasonFiltered},
		{"similar, filters exclude every image", func(*testing.T) (Page, int, error) {
			r, err := s.Similar(ctx, SimilarQuery{ImageInput: byID, Filter: future})
			return pageOf(r, err)
		}, false, ReasonFiltered},
		{"offset past the end", func(*testing.T) (Page, int, error) {
			r, err := s.Images(ctx, ImageQuery{Text: q, Params: Params{MinScore: Float(0), Offset: 500}})
			return pageOf(r, err)
		}, false, ReasonPastEnd},
		{"nothing indexed", func(t *testing.T) (Page, int, error) {
			r, err := emptyNamespace(t, false).Images(ctx, ImageQuery{Text: q, Params: Params{MinScore: Float(1.01)}})
			return pageOf(r, err)
		}, false, ReasonNoIndex},
		{"empty image index", func(t *testing.T) (Page, int, error) {
			r, err := emptyNamespace(t, true).Images(ctx, ImageQuery{Text: q})
			return pageOf(r, err)
		}, false, ReasonNoImages},
		{"no texts", func(t *testing.T) (Page, int, error) {
			r, err := emptyNamespace(t, true).Captions(ctx, CaptionQuery{ImageInput: ImageInput{Image: f.sceneImage(t, s, 3)}})
			return textPageOf(r, err)
		}, false, ReasonNoTexts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pg, hits, err := tc.run(t)
			if err != nil {
				t.Fatal(err)
			}
			if pg.NoConfidentMatch != tc.noMatch || !strings.HasPrefix(pg.Reason, tc.reason) || (tc.reason == "") != (hits > 0) {
				t.Fatalf("no_confident_match %v, reason %q, %d hits; want %v, %q", pg.NoConfidentMatch, pg.Reason, hits,
					tc.noMatch, tc.reason)
			}
			if tc.reason != "" && tc.reason != ReasonPastEnd && pg.Total != 0 {
				t.Fatalf("total %d", pg.Total)
			}
		})
	}
	t.Run("no candidate could be reranked", func(t *testing.T) {
		for _, p := range f.paths {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		r, err := f.searcher(t, Options{Tokens: TokensRecompute}).Images(ctx, ImageQuery{Text: q, Params: Params{K: 4}})
		if err != nil {
			t.Fatal(err)
		}
		if r.NoConfidentMatch || r.Reason != ReasonNotReranked || len(r.Warnings) != 4 || r.Total != 0 {
			t.Fatalf("no_confident_match %v, reason %q, %d warnings, total %d", r.NoConfidentMatch, r.Reason,
				len(r.Warnings), r.Total)
		}
	})
}

func pageOf(r *ImageResult, err error) (Page, int, error) {
	if err != nil {
		return Page{}, 0, err
	}
	return r.Page, len(r.Hits), nil
}

func textPageOf(r *TextResult, err error) (Page, int, error) {
	if err != nil {
		return Page{}, 0, err
	}
	return r.Page, len(r.Hits), nil
}

func TestExplainEmpty(t *testing.T) {
	tests := []struct {
		name    string
		total   int
		best    float64
		noMatch bool
		reason  string
	}{
		{"below the threshold", 0, 0.25, true, "no confident match: the best match probability is 0.250, below the minimum 0.5"},
		{"nothing reranked", 0, math.NaN(), false, ReasonNotReranked},
		{"offset past the end", 3, 0.9, false, "offset is past the last result (offset 10, 3 results)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pg Page
			params{min: 0.5, offset: 10}.explainEmpty(&pg, tc.total, tc.best)
			if pg.NoConfidentMatch != tc.noMatch || pg.Reason != tc.reason {
				t.Fatalf("no_confident_match %v, reason %q; want %v, %q", pg.NoConfidentMatch, pg.Reason, tc.noMatch, tc.reason)
			}
		})
	}
}
