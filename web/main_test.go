package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	glimpsefixture "github.com/glimpse-search/glimpse/internal/fixture"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// testModel is the embedded default bundle, opened once per test process.
func testModel(tb testing.TB) (*encoder.Model, store.ModelInfo) { return glimpsefixture.Model(tb) }

// testKey is the API key of the test servers.
const testKey = "test-key-0123456789abcdef"

// fixture is a server over a library of rendered scenes, indexed by the real indexer: even
// scenes in photos/a, odd ones in photos/b.
type fixture struct {
	srv      *Server
	lib      *library.Library
	dir      string   // data dir
	photos   string   // the photos folder
	paths    []string // file per scene
	captions [][]string
	ids      []uint64 // image id per scene
}

// writeScenes renders n scenes of seed into dir/a and dir/b and returns their paths and
// captions.
func writeScenes(tb testing.TB, dir string, seed uint64, n int) ([]string, [][]string) {
	tb.Helper()
	var paths []string
	var caps [][]string
	for i := range n {
		recs, scenes := scene.Records(seed, i, false, 0, "test", "png")
		img, err := scene.Render(scenes[0], 96)
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if err := scene.Encode(&buf, img, "png"); err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, []string{"a", "b"}[i%2], recs[0].Filename)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, p)
		var cs []string
		for _, s := range recs[0].Sentences {
			cs = append(cs, s.Raw)
		}
		caps = append(caps, cs)
	}
	return paths, caps
}

// newFixture indexes n scenes and starts a server with o (Keys default to testKey).
func newFixture(tb testing.TB, n int, o Options) *fixture {
	tb.Helper()
	m, info := testModel(tb)
	root := tb.TempDir()
	f := &fixture{dir: filepath.Join(root, "data"), photos: filepath.Join(root, "photos")}
	lib, err := library.Open(f.dir, library.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lib.Close() })
	f.lib = lib
	if n > 0 {
		f.paths, f.captions = writeScenes(tb, f.photos, 77, n)
		ix, err := indexer.New(lib, m, info, indexer.Options{Workers: 2})
		if err != nil {
			tb.Fatal(err)
		}
		if s, err := ix.Add(context.Background(), []string{f.photos}); err != nil || s.Indexed != n {
			tb.Fatalf("index: %+v %v", s, err)
		}
		for _, p := range f.paths {
			r, err := lib.DB().ImageByPath(p)
			if err != nil {
				tb.Fatal(err)
			}
			f.ids = append(f.ids, r.ID)
		}
	}
	if o.Keys == nil {
		o.Keys, _ = NewKeys(testKey)
	}
	if o.Search.CacheDir == "" {
		o.Search.CacheDir = filepath.Join(root, "tokens")
	}
	if f.srv, err = New(lib, m, info, o); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.srv.Close() })
	return f
}

// req describes one request to the handler.
type req struct {
	method, target string
	body           io.Reader
	ctype          string
	key            string // sent as a bearer token when set
	header         map[string]string
}

// do serves one request without a network (remote address 192.0.2.1).
func (f *fixture) do(tb testing.TB, r req) *httptest.ResponseRecorder {
	tb.Helper()
	return serve(f, newRequest(r))
}

func newRequest(r req) *http.Request {
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.target, r.body)
	hr.Host = "localhost:8080" // httptest's example.com is refused (checkHost)
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	return hr
}

func serve(f *fixture, hr *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, hr)
	return w
}

// decode unmarshals a JSON answer.
func decode[T any](tb testing.TB, w *httptest.ResponseRecorder) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		tb.Fatalf("answer %d %q: %v", w.Code, clip(w.Body.String()), err)
	}
	return v
}

// apiErr is the error body.
type apiErr struct {
	Error struct{ Code, Message string } `json:"error"`
}

// jsonBody marshals v.
func jsonBody(tb testing.TB, v any) io.Reader {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.NewReader(b)
}

// form builds a multipart body with files (field -> bytes) and fields.
func form(tb testing.TB, files map[string][]byte, fields map[string]string) (io.Reader, string) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range files {
		fw, err := mw.CreateFormFile(k, k+".png")
		if err != nil {
			tb.Fatal(err)
		}
		fw.Write(v)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func writeFile(tb testing.TB, p string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}
