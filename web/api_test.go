package web

import (
	"bytes"
	"fmt"
	"image"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/glimpse-search/glimpse/searcher"
)

// TestAPI runs the happy paths of every endpoint against a library of 12 indexed scenes.
func TestAPI(t *testing.T) {
	ui := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Glimpse UI</title>")}}
	f := newFixture(t, 12, Options{UI: ui, NoRateLimit: true})
	png0, err := os.ReadFile(f.paths[0])
	if err != nil {
		t.Fatal(err)
	}
	id0 := strconv.FormatUint(f.ids[0], 10)
	cap0 := f.captions[0][0]
	cases := []struct {
		name  string
		req   func() req
		want  int
		check func(t *testing.T, body []byte, h http.Header)
	}{
		{"search", func() req { return req{target: "/api/v1/search?min_score=0&limit=5&q=" + url.QueryEscape(cap0)} }, 200,
			func(t *testing.T, b []byte, h http.Header) {
				r := decodeBytes[ImageResult](t, b)
				if len(r.Hits) != 5 || r.Total != 12 || r.Reranked != 12 || r.NoConfidentMatch || r.Timings.Total <= 0 {
					t.Fatalf("%d hits, total %d, reranked %d, no match %v, timings %+v", len(r.Hits), r.Total, r.Reranked,
						r.NoConfidentMatch, r.Timings)
				}
				h0 := r.Hits[0]
				if h0.PMatch == nil || h0.ITMLogit == nil || h0.Score != *h0.PMatch || h0.Name == "" || h0.Width != 96 ||
					h0.ThumbURL != fmt.Sprintf("/api/v1/thumbs/%d", h0.ID) || h0.ImageURL != fmt.Sprintf("/api/v1/images/%d", h0.ID) {
					t.Fatalf("hit %+v", h0)
				}
				if bytes.Contains(b, []byte(f.photos)) {
					t.Fatalf("the answer names a server path: %s", b)
				}
			}},
		{"search no confident match", func() req { return req{target: "/api/v1/search?min_score=1&q=" + url.QueryEscape(cap0)} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				r := decodeBytes[ImageResult](t, b)
				if len(r.Hits) != 0 || !r.NoConfidentMatch || !strings.HasPrefix(r.Reason, searcher.ReasonNoConfident) {
					t.Fatalf("hits %d, flag %v, reason %q", len(r.Hits), r.NoConfidentMatch, r.Reason)
				}
			}},
		{"search folder filter", func() req {
			return req{target: "/api/v1/search?min_score=0&folder=photos/b/&q=a+circle"}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			r := decodeBytes[ImageResult](t, b)
			if r.Total != 6 {
				t.Fatalf("folder b: %d results, want 6", r.Total)
			}
		}},
		{"search date filter", func() req { return req{target: "/api/v1/search?from=2030-01-01&q=a+circle"} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				r := decodeBytes[ImageResult](t, b)
				if r.Total != 0 || r.NoConfidentMatch || r.Reason != searcher.ReasonFiltered {
					t.Fatalf("%+v", r.Page)
				}
			}},
		{"similar by upload", func() req {
			body, ct := form(t, map[string][]byte{"image": png0}, nil)
			return req{method: "POST", target: "/api/v1/search/image?limit=3", body: body, ctype: ct}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			r := decodeBytes[ImageResult](t, b)
			if len(r.Hits) != 3 || r.Hits[0].ID != f.ids[0] || r.Timings.Decode <= 0 {
				t.Fatalf("hits %+v timings %+v", r.Hits, r.Timings)
			}
		}},
		{"similar by id", func() req {
			return req{method: "POST", target: "/api/v1/search/image?target=images&limit=3", body: jsonBody(t, map[string]any{"id": f.ids[0]}),
				ctype: "application/json"}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			r := decodeBytes[ImageResult](t, b)
			if len(r.Hits) != 3 || r.Hits[0].ID == f.ids[0] {
				t.Fatalf("hits %+v (the query image is left out)", r.Hits)
			}
		}},
		{"captions without texts", func() req {
			return req{method: "POST", target: "/api/v1/search/image?target=texts", body: jsonBody(t, map[string]any{"id": id0}),
				ctype: "application/json; charset=utf-8"}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			r := decodeBytes[TextResult](t, b)
			if len(r.Hits) != 0 || r.NoConfidentMatch || r.Reason != searcher.ReasonNoTexts {
				t.Fatalf("%s", b)
			}
		}},
		{"score by upload", func() req {
			body, ct := form(t, map[string][]byte{"image": png0}, map[string]string{"text": cap0})
			return req{method: "POST", target: "/api/v1/score", body: body, ctype: ct}
		}, 200, checkScores},
		{"score by id", func() req {
			return req{method: "POST", target: "/api/v1/score", body: jsonBody(t, map[string]any{"id": f.ids[0], "text": cap0}),
				ctype: "application/json"}
		}, 200, checkScores},
		{"explain", func() req { return req{target: "/api/v1/explain?id=" + id0 + "&q=" + url.QueryEscape(cap0)} }, 200,
			func(t *testing.T, b []byte, h http.Header) {
				cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
				if err != nil || format != "png" || cfg.Width != 96 || h.Get(HeaderPMatch) == "" {
					t.Fatalf("%v %s %d, p_match %q", err, format, cfg.Width, h.Get(HeaderPMatch))
				}
			}},
		{"image", func() req { return req{target: "/api/v1/images/" + id0} }, 200,
			func(t *testing.T, b []byte, h http.Header) {
				if !bytes.Equal(b, png0) || h.Get("Content-Type") != "image/png" || h.Get("ETag") == "" {
					t.Fatalf("%d bytes, %q", len(b), h.Get("Content-Type"))
				}
			}},
		{"image range", func() req {
			return req{target: "/api/v1/images/" + id0, header: map[string]string{"Range": "bytes=0-7"}}
		}, 206,
			func(t *testing.T, b []byte, _ http.Header) {
				if !bytes.Equal(b, png0[:8]) {
					t.Fatalf("range: %q", b)
				}
			}},
		{"thumb", func() req { return req{target: "/api/v1/thumbs/" + id0} }, 200,
			func(t *testing.T, b []byte, h http.Header) {
				if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || format != "jpeg" {
					t.Fatalf("thumb: %v %s", err, format)
				}
			}},
		{"meta", func() req { return req{target: "/api/v1/images/" + id0 + "/meta"} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				m := decodeBytes[ImageMeta](t, b)
				if m.ID != f.ids[0] || m.Format != "png" || !m.Available || m.Folder != "photos/a/" || bytes.Contains(b, []byte(f.photos)) || m.Size != int64(len(png0)) {
					t.Fatalf("%+v", m)
				}
			}},
		{"folders", func() req { return req{target: "/api/v1/folders"} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				fs := decodeBytes[Folders](t, b)
				want := []Folder{{"photos/", "photos/", 12}, {"photos/a/", "a/", 6}, {"photos/b/", "b/", 6}}
				if fmt.Sprint(fs.Folders) != fmt.Sprint(want) {
					t.Fatalf("folders %+v, want %+v", fs.Folders, want)
				}
				if bytes.Contains(b, []byte(f.photos)) {
					t.Fatalf("the answer names a server path: %s", b)
				}
			}},
		{"texts", func() req {
			return req{method: "POST", target: "/api/v1/texts", key: testKey, ctype: "application/json",
				body: jsonBody(t, TextsRequest{Texts: []TextItem{{ID: "c0", Text: cap0}, {Text: "a large green triangle"}}})}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			if r := decodeBytes[TextsResult](t, b); r != (TextsResult{Received: 2, Added: 2}) {
				t.Fatalf("%+v", r)
			}
		}},
		{"captions", func() req {
			return req{method: "POST", target: "/api/v1/search/image?target=texts&min_score=0", ctype: "application/json",
				body: jsonBody(t, map[string]any{"id": f.ids[0]})}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			r := decodeBytes[TextResult](t, b)
			if len(r.Hits) != 2 || r.Hits[0].Text != cap0 || r.Hits[0].Source != "c0" {
				t.Fatalf("%s", b)
			}
		}},
		{"texts plain", func() req {
			return req{method: "POST", target: "/api/v1/texts", key: testKey, ctype: "text/plain",
				body: bytes.NewReader([]byte(cap0 + "\n\nsomething else\n"))}
		}, 200, func(t *testing.T, b []byte, _ http.Header) {
			if r := decodeBytes[TextsResult](t, b); r.Received != 2 || r.Added != 2 {
				t.Fatalf("%+v", r)
			}
		}},
		{"healthz", func() req { return req{target: "/healthz"} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				if !contains(string(b), `"status":"ok"`, f.srv.Instance()) {
					t.Fatalf("%s", b)
				}
			}},
		{"readyz", func() req { return req{target: "/readyz"} }, 200, nil},
		{"openapi", func() req { return req{target: "/api/v1/openapi.json"} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				if !bytes.Equal(b, OpenAPI) {
					t.Fatal("not the embedded document")
				}
			}},
		{"ui", func() req { return req{target: "/"} }, 200,
			func(t *testing.T, b []byte, h http.Header) {
				if !contains(string(b), "Glimpse UI") || h.Get("Content-Security-Policy") == "" {
					t.Fatalf("%s", b)
				}
			}},
		{"metrics", func() req { return req{target: "/metrics"} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				if !contains(string(b), `glimpse_http_requests_total{code="200",method="GET",route="/api/v1/search"}`,
					`glimpse_search_stage_seconds_bucket{stage="rerank"`, "glimpse_images 12", "go_goroutines") {
					t.Fatalf("%s", b)
				}
			}},
		{"delete", func() req { return req{method: "DELETE", target: "/api/v1/images/" + id0, key: testKey} }, 200,
			func(t *testing.T, b []byte, _ http.Header) {
				if d := decodeBytes[Deleted](t, b); d.ID != f.ids[0] || !d.Deleted {
					t.Fatalf("%+v", d)
				}
			}},
		{"deleted image", func() req { return req{target: "/api/v1/images/" + id0 + "/meta"} }, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := f.do(t, c.req())
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, clip(w.Body.String()))
			}
			if w.Header().Get(HeaderRequestID) == "" {
				t.Error("no request id")
			}
			if c.check != nil {
				c.check(t, w.Body.Bytes(), w.Header())
			}
		})
	}
}

func checkScores(t *testing.T, b []byte, _ http.Header) {
	r := decodeBytes[ScoreResult](t, b)
	if s := r.Scores[0] + r.Scores[1]; s < 0.999 || s > 1.001 || r.Scores[1] < 0 {
		t.Fatalf("scores %v", r.Scores)
	}
}

func decodeBytes[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := jsonUnmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, clip(string(b)))
	}
	return v
}

// TestRequestID checks that a sane incoming id is kept and an unsafe one replaced.
func TestRequestID(t *testing.T) {
	f := newFixture(t, 0, Options{})
	for _, c := range []struct{ in, want string }{{"abc-123", "abc-123"}, {"bad id\n", ""}, {"", ""}} {
		w := f.do(t, req{target: "/healthz", header: map[string]string{HeaderRequestID: c.in}})
		got := w.Header().Get(HeaderRequestID)
		if (c.want != "" && got != c.want) || (c.want == "" && (got == "" || got == c.in)) {
			t.Errorf("in %q: got %q", c.in, got)
		}
	}
}

// TestCORS checks that CORS is off by default and answers only the configured origins.
func TestCORS(t *testing.T) {
	preflight := func(f *fixture, origin string) http.Header {
		return f.do(t, req{method: "OPTIONS", target: "/api/v1/search", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET"}}).Header()
	}
	off := newFixture(t, 0, Options{})
	if h := preflight(off, "https://photos.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS without configuration: %v", h)
	}
	on := newFixture(t, 0, Options{CORSOrigins: []string{"https://photos.example"}})
	if h := preflight(on, "https://photos.example"); h.Get("Access-Control-Allow-Origin") != "https://photos.example" {
		t.Fatalf("allowed origin: %v", h)
	}
	if h := preflight(on, "https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin allowed: %v", h)
	}
}
