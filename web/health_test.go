package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// TestReadyzBackendDown: a vector backend that does not answer makes /readyz say so (503),
// while /healthz (the process is alive) stays 200.
func TestReadyzBackendDown(t *testing.T) {
	m, info := testModel(t)
	b, err := store.OpenBackend("weaviate://127.0.0.1:1", store.BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lib, err := library.Open(filepath.Join(dir, "data"), library.Options{NoSync: true, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	o := Options{}
	o.Search.CacheDir = filepath.Join(dir, "tokens")
	srv, err := New(lib, m, info, o)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/healthz", http.StatusOK, `"ok"`},
		{"/readyz", http.StatusServiceUnavailable, "the vector backend does not answer"},
	} {
		rec := httptest.NewRecorder()
		hr := httptest.NewRequest(http.MethodGet, tc.path, nil)
		hr.Host = "127.0.0.1:8080"
		srv.Handler().ServeHTTP(rec, hr)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("GET %s = %d %s, want %d containing %q", tc.path, rec.Code, rec.Body, tc.code, tc.want)
		}
		if tc.path == "/readyz" {
			var r Ready
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Ready || r.Checks["model"] != "ok" ||
				r.Model != (ReadyModel{Name: "tiny-scenes", Family: "tiny-scenes", Precision: "fp32", Rerank: true}) {
				t.Errorf("readyz body %+v (%v)", r, err)
			}
		}
	}
}
