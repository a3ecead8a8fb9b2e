package web

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/searcher"
)

// captionsSource is the file a test corpus is said to come from: a server path the API must
// not show.
const captionsSource = "/srv/glimpse-secret/corpus/captions.txt"

// addCaptions stores every caption of the fixture's scenes as texts, as `indexer add-texts
// /srv/.../captions.txt` does (source "FILE:LINE"), and returns how many.
func addCaptions(t *testing.T, f *fixture) int {
	t.Helper()
	m, info := testModel(t)
	ix, err := indexer.New(f.lib, m, info, indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []indexer.TextLine
	for _, cs := range f.captions {
		for _, c := range cs {
			lines = append(lines, indexer.TextLine{Text: c, Line: len(lines) + 1})
		}
	}
	if s, err := ix.AddTexts(context.Background(), lines, captionsSource); err != nil || s.Added != len(lines) {
		t.Fatalf("add texts: %+v %v", s, err)
	}
	return len(lines)
}

// captions runs POST /search/image?target=texts for the fixture's first image.
func captions(t *testing.T, f *fixture, query string) (TextResult, []byte) {
	t.Helper()
	w := f.do(t, req{method: "POST", target: "/api/v1/search/image?target=texts&" + query, ctype: "application/json",
		body: jsonBody(t, map[string]any{"id": f.ids[0]})})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	return decode[TextResult](t, w), w.Body.Bytes()
}

// Image -> text search applies min_score to the texts (default: the model's threshold, 0.5);
// min_score=0 turns it off.
func TestCaptionsThreshold(t *testing.T) {
	f := newFixture(t, 12, Options{NoRateLimit: true})
	n := addCaptions(t, f)
	limit := "&limit=1000"

	off, _ := captions(t, f, "min_score=0"+limit)
	if off.Total != n || len(off.Hits) != n || off.Reranked != n || off.MinScore == nil || *off.MinScore != 0 {
		t.Fatalf("min_score=0: total %d, %d hits, %d reranked, min_score %v; want all %d", off.Total, len(off.Hits),
			off.Reranked, off.MinScore, n)
	}
	below := 0
	for _, h := range off.Hits {
		if *h.PMatch < searcher.DefaultMinScore {
			below++
		}
	}
	if below == 0 {
		t.Fatal("no text scores under the default threshold: the test cannot tell it applies")
	}

	def, _ := captions(t, f, limit[1:])
	if def.MinScore == nil || *def.MinScore != searcher.DefaultMinScore {
		t.Fatalf("default min_score %v, want %v", def.MinScore, searcher.DefaultMinScore)
	}
	if def.Total != n-below || len(def.Hits) != def.Total {
		t.Fatalf("default threshold: total %d, %d hits; want the %d texts at or over %v", def.Total, len(def.Hits),
			n-below, searcher.DefaultMinScore)
	}
	for _, h := range def.Hits {
		if h.PMatch == nil || h.ITMLogit == nil || *h.PMatch < *def.MinScore || h.Score != *h.PMatch {
			t.Fatalf("hit %+v under the threshold", h)
		}
	}

	none, _ := captions(t, f, "min_score=1")
	if len(none.Hits) != 0 || none.Total != 0 || !none.NoConfidentMatch ||
		!strings.HasPrefix(none.Reason, searcher.ReasonNoConfident) {
		t.Fatalf("min_score=1: %d hits, no_confident_match %v, reason %q", len(none.Hits), none.NoConfidentMatch, none.Reason)
	}
}

// A text's source names the file it came from by base name only.
func TestTextSourceHidesPaths(t *testing.T) {
	f := newFixture(t, 12, Options{NoRateLimit: true})
	addCaptions(t, f)
	res, body := captions(t, f, "min_score=0&limit=1000")
	if bytes.Contains(body, []byte("/srv/")) || bytes.Contains(body, []byte("glimpse-secret")) {
		t.Fatalf("the answer names a server path: %s", clip(string(body)))
	}
	for _, h := range res.Hits {
		if !strings.HasPrefix(h.Source, "captions.txt:") {
			t.Fatalf("source %q, want captions.txt:LINE", h.Source)
		}
	}
	// the store keeps the whole source
	r, err := f.lib.DB().Text(res.Hits[0].ID)
	if err != nil || r.Source != captionsSource+":"+strings.TrimPrefix(res.Hits[0].Source, "captions.txt:") {
		t.Fatalf("stored source %q, %v", r.Source, err)
	}
}

func TestSourceName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/srv/corpus/captions.txt:12", "captions.txt:12"},
		{"corpus/captions.txt:3", "captions.txt:3"},
		{"../../home/me/caps.txt:1", "caps.txt:1"},
		{`C:\corpus\captions.txt:7`, "captions.txt:7"},
		{"captions.txt:2", "captions.txt:2"},
		{"api:4", "api:4"},
		{"c0", "c0"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := sourceName(tc.in); got != tc.want {
				t.Errorf("sourceName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// no_confident_match is the threshold's answer only: an empty library or filters that exclude
// every image give total 0 with a reason and the flag false.
func TestNoConfidentMatchSemantics(t *testing.T) {
	f := newFixture(t, 12, Options{NoRateLimit: true})
	empty := newFixture(t, 0, Options{NoRateLimit: true})
	q := "&q=" + url.QueryEscape(f.captions[0][0])
	tests := []struct {
		name    string
		f       *fixture
		target  string
		noMatch bool
		reason  string // prefix
	}{
		{"under the threshold", f, "/api/v1/search?min_score=1" + q, true, searcher.ReasonNoConfident},
		{"past the threshold", f, "/api/v1/search?min_score=0" + q, false, ""},
		{"date filter excludes everything", f, "/api/v1/search?from=2030-01-01" + q, false, searcher.ReasonFiltered},
		{"folder filter excludes everything", f, "/api/v1/search?min_score=1&folder=photos/nowhere" + q, false, searcher.ReasonFiltered},
		{"empty library", empty, "/api/v1/search?min_score=1" + q, false, searcher.ReasonNoIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.f.do(t, req{target: tc.target})
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			r := decode[ImageResult](t, w)
			if r.NoConfidentMatch != tc.noMatch || !strings.HasPrefix(r.Reason, tc.reason) || (tc.reason == "") != (r.Total > 0) {
				t.Fatalf("total %d, no_confident_match %v, reason %q; want %v, %q", r.Total, r.NoConfidentMatch, r.Reason,
					tc.noMatch, tc.reason)
			}
			if !strings.Contains(w.Body.String(), `"no_confident_match":`) {
				t.Fatal("no_confident_match is missing from the answer")
			}
		})
	}
}
