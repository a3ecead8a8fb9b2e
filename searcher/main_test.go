package searcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/store"
)

var (
	modelOnce sync.Once
	testM     *encoder.Model
	modelErr  error
)

// testModel opens the embedded default bundle once. It fails (never skips) without ONNX Runtime:
// `make test` runs `make setup` first.
func testModel(tb testing.TB) *encoder.Model {
	tb.Helper()
	modelOnce.Do(func() { testM, modelErr = encoder.Open(models.Default(), encoder.Options{}) })
	if modelErr != nil {
		tb.Fatalf("open default bundle: %v", modelErr)
	}
	return testM
}

// testInfo identifies the test model in the store.
func testInfo(tb testing.TB) store.ModelInfo {
	m := testModel(tb)
	return store.ModelInfo{Name: m.Manifest.Name, Dim: m.Manifest.EmbeddingDim, BundleHash: "test-bundle"}
}

// fixture is a small library indexed with the real encoders: scenes in two folders with
// capture dates in two years, and every scene's captions as texts.
type fixture struct {
	dir      string
	db       *store.DB
	images   []uint64   // image id per scene
	paths    []string   // file per scene
	captions [][]string // per scene
	texts    []uint64   // text ids, captions in order
	textOf   map[uint64]int
}

const fixtureScenes = 24

// folder and capture date of scene i: even scenes in a/ during 2023, odd ones in b/ during 2024.
func sceneFolder(i int) string { return []string{"a", "b"}[i%2] }
func sceneDate(i int) time.Time {
	return time.Date(2023+i%2, time.Month(1+i%12), 10, 12, 0, 0, 0, time.UTC)
}

// newFixture builds the library in a temporary folder; withTexts adds the captions.
func newFixture(tb testing.TB, withTexts bool) *fixture {
	tb.Helper()
	m := testModel(tb)
	f := &fixture{dir: tb.TempDir(), textOf: map[uint64]int{}}
	db, err := store.Open(filepath.Join(f.dir, "glimpse.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	f.db = db
	ns, err := db.Namespace(testInfo(tb), store.NamespaceOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var imgs []image.Image
	var batch []store.NewImage
	for i := range fixtureScenes {
		recs, scenes := scene.Records(77, i, false, 0, "test", "png")
		img, err := scene.Render(scenes[0], 96)
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if err := scene.Encode(&buf, img, "png"); err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(f.dir, "photos", sceneFolder(i), recs[0].Filename)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			tb.Fatal(err)
		}
		f.paths = append(f.paths, p)
		var caps []string
		for _, s := range recs[0].Sentences {
			caps = append(caps, s.Raw)
		}
		f.captions = append(f.captions, caps)
		imgs = append(imgs, img)
		batch = append(batch, store.NewImage{Record: store.ImageRecord{Path: p, SHA256: sha256.Sum256(buf.Bytes()),
			Size: int64(buf.Len()), ModTime: st.ModTime(), Width: 96, Height: 96, Captured: sceneDate(i)}})
	}
	out, err := m.Vision.Encode(context.Background(), imgs, encoder.VisionOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range batch {
		batch[i].Vector = out.Embeds[i]
	}
	if f.images, err = ns.AddImages(batch); err != nil {
		tb.Fatal(err)
	}
	if !withTexts {
		return f
	}
	var all []string
	var owner []int
	for i, caps := range f.captions {
		all = append(all, caps...)
		for range caps {
			owner = append(owner, i)
		}
	}
	tout, err := m.Text.Encode(context.Background(), all, encoder.TextOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var tb2 []store.NewText
	for i, c := range all {
		tb2 = append(tb2, store.NewText{Record: store.TextRecord{Text: c, Source: fmt.Sprintf("scene %d", owner[i])},
			Vector: tout.Embeds[i]})
	}
	if f.texts, err = ns.AddTexts(tb2); err != nil {
		tb.Fatal(err)
	}
	for i, id := range f.texts {
		f.textOf[id] = owner[i]
	}
	return f
}

// searcher opens a searcher over the fixture with a token cache in the fixture folder.
func (f *fixture) searcher(tb testing.TB, o Options) *Searcher {
	tb.Helper()
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(f.dir, "tokens")
	}
	s, err := New(f.db, testModel(tb), testInfo(tb), o)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// sceneImage decodes scene i's file.
func (f *fixture) sceneImage(tb testing.TB, s *Searcher, i int) image.Image {
	tb.Helper()
	fh, err := os.Open(f.paths[i])
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	img, err := s.Decode(fh)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}
