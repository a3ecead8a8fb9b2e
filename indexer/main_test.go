package indexer

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/library/librarytest"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/store"
)

var (
	modelOnce sync.Once
	testM     *encoder.Model
	testInfo  store.ModelInfo
	modelErr  error
)

// TestMain runs the kill -9 child when asked (see TestResumeAfterKill).
func TestMain(m *testing.M) {
	if dir := os.Getenv(envChild); dir != "" {
		os.Exit(runChild(dir, os.Getenv(envChildData)))
	}
	if dir := os.Getenv(envBenchRSS); dir != "" {
		os.Exit(rssChild(dir))
	}
	os.Exit(m.Run())
}

// testModel opens the embedded default bundle once. It fails (never skips) when ONNX Runtime
// is missing: `make test` runs `make setup` first.
func testModel(tb testing.TB) (*encoder.Model, store.ModelInfo) {
	tb.Helper()
	modelOnce.Do(func() {
		testInfo, modelErr = library.ModelInfo(models.Default())
		if modelErr == nil {
			testM, modelErr = encoder.Open(models.Default(), encoder.Options{IntraOpThreads: 1})
		}
	})
	if modelErr != nil {
		tb.Fatalf("open default bundle: %v", modelErr)
	}
	return testM, testInfo
}

// testLib opens a library in a temporary data dir (closed at cleanup).
func testLib(tb testing.TB, dir string) *library.Library { return librarytest.Open(tb, dir) }

// run indexes roots into lib and returns the summary and the outcome of every file by path.
func run(tb testing.TB, lib *library.Library, o Options, roots ...string) (Summary, map[string]FileResult) {
	tb.Helper()
	m, info := testModel(tb)
	res := map[string]FileResult{}
	o.OnFile = func(r FileResult) { res[r.Path] = r }
	if o.Workers == 0 {
		o.Workers = 2
	}
	ix, err := New(lib, m, info, o)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ix.Add(context.Background(), roots)
	if err != nil {
		tb.Fatalf("add: %v", err)
	}
	return s, res
}

// sceneImage renders scene i of a fixed seed at size px.
func sceneImage(tb testing.TB, i, size int) *image.RGBA {
	tb.Helper()
	img, err := scene.Render(scene.NewScene(7, i), size)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image, q int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// writeScenes writes n PNG scenes (from index start) of size px into dir.
func writeScenes(tb testing.TB, dir string, start, n, size int) {
	librarytest.WriteScenes(tb, dir, start, n, size)
}

// gradient is a w x h opaque test picture.
func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / max(w, 1)), uint8(y * 255 / max(h, 1)), 90, 255})
		}
	}
	return img
}

// paths lists every stored image path, sorted.
func paths(tb testing.TB, db *store.DB) []string { return librarytest.Paths(tb, db) }
