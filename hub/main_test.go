package hub_test

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/hub"
	"github.com/glimpse-search/glimpse/hub/hubtest"
)

// clipRepo is an immich-style CLIP export, small: two LFS graphs (redirected to the CDN) and
// three small git files.
const clipRepo = "immich-app/ViT-B-32__openai"

// repoFiles returns the test repository's files, the same bytes every call (fixed seed).
func repoFiles() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	return map[string][]byte{
		"config.json":            []byte(`{"clip_model": "ViT-B-32", "pretrained": "openai"}` + "\n"),
		"README.md":              []byte("# ViT-B-32__openai\n\nTest fixture.\n"),
		"visual/model.onnx":      blob(300 << 10),
		"textual/model.onnx":     blob(200 << 10),
		"textual/tokenizer.json": blob(50 << 10),
	}
}

// setup starts a mirror serving the test repository and a client of it; mod adjusts the
// client's options (short timeouts and backoffs are already set).
func setup(t *testing.T, mopts hubtest.Options, mod func(*hub.Options)) (*hubtest.Mirror, *hub.Client, map[string][]byte) {
	t.Helper()
	m := hubtest.New(mopts)
	t.Cleanup(m.Close)
	files := repoFiles()
	m.Add(clipRepo, files)
	opts := hub.Options{
		Endpoint:    m.URL,
		Backoff:     5 * time.Millisecond,
		MaxBackoff:  50 * time.Millisecond,
		IdleTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := hub.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, c, files
}

// checkTree fails unless dir holds exactly want (path -> bytes).
func checkTree(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	got := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			got[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		}
		return nil
	})
	for p, b := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s missing", p)
		} else if !bytes.Equal(g, b) {
			t.Errorf("%s: %d bytes differ from the %d published", p, len(g), len(b))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected file %s (%d bytes)", p, len(got[p]))
		}
	}
}

// bodyRequests returns the mirror's requests that carried (part of) file's bytes: GETs answered
// 200 or 206.
func bodyRequests(m *hubtest.Mirror, file string) []hubtest.Request {
	var out []hubtest.Request
	for _, r := range m.FileRequests() {
		if r.File == file && r.Method == "GET" && (r.Status == 200 || r.Status == 206) {
			out = append(out, r)
		}
	}
	return out
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
