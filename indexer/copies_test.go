package indexer

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/library/librarytest"
	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/photo/turbojpeg"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/store"
)

// Tolerances of tokens computed from a model-resolution copy, measured with the default model
// on the 12 MP photos of TestTokensCopies (tokens up to 4.5 in magnitude; the worst content):
// against the tokens of the pixels the indexer embedded (the copy's JPEG loss alone) max abs
// 0.31, cosine 0.99967; against a full decode of the original (what lazy computes, from a
// slightly different decode) max abs 0.32, cosine 0.99968; a caption's ITM match probability
// moves by 9e-5. Over the encoder's test photos and 20 scenes the least cosine is 0.9989
// (quality 90, 4:4:4; 4:2:0 chroma would give 0.87).
const (
	copyTokenMaxAbs    = 0.5
	copyTokenMinCosine = 0.999
	copyPMatchAbs      = 0.005
)

// TestDefaultTokens: eager is the default while one image's tokens fit MaxEagerTokenBytes,
// copies past it, lazy for a model without an ITM head.
func TestDefaultTokens(t *testing.T) {
	cases := []struct {
		name       string
		itm        bool
		tokenBytes int
		want       string
	}{
		{"the default model (65 x 128 fp16)", true, 2 * 65 * 128, TokensEager},
		{"at the limit", true, MaxEagerTokenBytes, TokensEager},
		{"one byte over", true, MaxEagerTokenBytes + 1, TokensCopies},
		{"BLIP base (577 x 768)", true, 2 * 577 * 768, TokensCopies},
		{"a ViT-L (577 x 1024)", true, 2 * 577 * 1024, TokensCopies},
		{"dual encoder", false, 0, TokensLazy},
		{"dual encoder with large tokens", false, 2 * 577 * 1024, TokensLazy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := defaultTokens(c.itm, c.tokenBytes); got != c.want {
				t.Errorf("defaultTokens(%v, %d) = %q, want %q", c.itm, c.tokenBytes, got, c.want)
			}
		})
	}
	m, info := testModel(t)
	ix, err := New(testLib(t, ""), m, info, Options{})
	if err != nil || ix.Tokens() != TokensEager {
		t.Errorf("New with the default model: policy %q, %v; want eager", ix.Tokens(), err)
	}
}

// TestParseTokens: the three policies are accepted by name, anything else is refused with an
// error that names them, by ParseTokens and by New.
func TestParseTokens(t *testing.T) {
	m, info := testModel(t)
	lib := testLib(t, "")
	cases := []struct {
		name string
		ok   bool
	}{
		{TokensEager, true},
		{TokensCopies, true},
		{TokensLazy, true},
		{"", false}, // Options.Tokens "" is the default; as a name it is none
		{"Copies", false},
		{"copy", false},
		{" eager", false},
		{"sometimes", false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q", c.name), func(t *testing.T) {
			got, err := ParseTokens(c.name)
			if c.ok != (err == nil) || c.ok && got != c.name {
				t.Fatalf("ParseTokens(%q) = %q, %v", c.name, got, err)
			}
			if c.ok || c.name == "" {
				return
			}
			if !strings.Contains(err.Error(), "eager, copies, lazy") || !strings.Contains(err.Error(), c.name) {
				t.Errorf("error %q does not name the policy and the choices", err)
			}
			if _, err := New(lib, m, info, Options{Tokens: c.name}); err == nil || !strings.Contains(err.Error(), "eager, copies, lazy") {
				t.Errorf("New with policy %q: %v", c.name, err)
			}
		})
	}
}

// cameraPhotos writes n generated scenes as 4032x3024 JPEGs (quality 90, the size a phone
// takes), the second turned by EXIF orientation 6 (stored on its side), and returns their paths.
func cameraPhotos(tb testing.TB, dir string, n int) []string {
	tb.Helper()
	paths := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			img, err := scene.Render(scene.NewScene(31, i), 256)
			if err != nil {
				tb.Error(err)
				return
			}
			w, h := 4032, 3024
			if i == 1 {
				w, h = h, w
			}
			data := encodeJPEG(tb, imaging.Resize(img, w, h, imaging.Linear), 90)
			if i == 1 {
				data = append(append([]byte{0xFF, 0xD8}, app1Exif(6, "2024:06:01 10:00:00")...), data[2:]...)
			}
			paths[i] = writeFile(tb, filepath.Join(dir, fmt.Sprintf("IMG_%04d.jpg", i)), data)
		})
	}
	wg.Wait()
	return paths
}

// openRecorder is a RecomputeOptions.Open that records the paths it opens.
type openRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (o *openRecorder) open(p string) (io.ReadCloser, error) {
	o.mu.Lock()
	o.paths = append(o.paths, p)
	o.mu.Unlock()
	return os.Open(p)
}

func (o *openRecorder) opened() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.paths)
}

func maxAbsDiff(a, b []float32) float64 {
	var worst float64
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i]-b[i])))
	}
	return worst
}

// TestTokensCopies: with a token cache that has no room, the copies policy writes one
// model-resolution copy per new content (a duplicate adds none) and no tokens; each copy is
// the model's S x S input, upright, a few KiB; the tokens computed from it match those of the
// pixels the indexer embedded and those of the original within the measured tolerances; and
// the first query over the library reranks every candidate from its copy, never opening an
// original.
func TestTokensCopies(t *testing.T) {
	src := t.TempDir()
	photos := cameraPhotos(t, src, 3)
	writeFile(t, filepath.Join(src, "again.jpg"), mustRead(t, photos[2]))
	writeScenes(t, src, 0, 2, 96) // PNGs
	m, info := testModel(t)
	lib := testLib(t, "")
	ix, err := New(lib, m, info, Options{Workers: 2, Tokens: TokensCopies, TokenBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ix.Add(context.Background(), []string{src}); err != nil || s.Indexed != 5 || s.Duplicate != 1 {
		t.Fatalf("index: %+v %v", s, err)
	}
	dir := library.CopyDir(lib.Dir(), ix.Namespace().Name(), info)
	names, _ := filepath.Glob(filepath.Join(dir, "*"+library.CopyExt))
	if len(names) != 5 {
		t.Fatalf("%d copies for 5 contents (6 files, one a duplicate): %v", len(names), names)
	}
	if toks, _ := filepath.Glob(filepath.Join(library.TokenDir(lib.Dir(), ix.Namespace().Name(), info), "*")); len(toks) != 0 {
		t.Errorf("the copies policy stored %d token files in a cache without room", len(toks))
	}
	st, err := LibraryStats(lib, info)
	if err != nil || st.CopyFiles != 5 || st.TokenFiles != 0 {
		t.Errorf("status: %d copies, %d token files, %v", st.CopyFiles, st.TokenFiles, err)
	}
	if per := st.CopyBytes / 5; per <= 0 || per > 8<<10 {
		t.Errorf("copies take %d bytes a photo, want a few KiB at the default model's %d px", per, ix.pre.Size())
	}
	t.Logf("copies: %.1f KiB a photo at %d px", float64(st.CopyBytes)/5/1024, ix.pre.Size())

	rc := rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: 2})
	rr, err := rerank.New(m, rerank.Options{})
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := rr.EncodeTexts(context.Background(), []string{"a red circle above a blue square"})
	if err != nil {
		t.Fatal(err)
	}
	var worstIx, worstOrig, worstP, peak float64
	minCosIx, minCosOrig := 1.0, 1.0
	for _, p := range photos {
		rec, err := lib.DB().ImageByPath(p)
		if err != nil {
			t.Fatal(err)
		}
		cp := library.CopyPath(dir, rec.ContentID)
		cimg, err := photo.Decode(mustRead(t, cp), photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b := cimg.Bounds(); b.Dx() != ix.pre.Size() || b.Dy() != ix.pre.Size() {
			t.Errorf("copy of %s is %v, want the model's %d px square", p, b, ix.pre.Size())
		}
		data := mustRead(t, p)
		d, err := ix.decode(data, photo.Sniff(data), true)
		if err != nil {
			t.Fatal(err)
		}
		// the copy is the indexer's model input (upright: orientation 6 applied), to its JPEG loss
		want, err := ix.pre.Resized(d.model)
		if err != nil {
			t.Fatal(err)
		}
		if mean := meanLevelDiff(want, cimg); mean > 2 {
			t.Errorf("copy of %s differs from the model's input by %.2f levels on average", p, mean)
		}
		embedded, err := m.Vision.Encode(context.Background(), []image.Image{d.model}, encoder.VisionOptions{Tokens: true})
		if err != nil {
			t.Fatal(err)
		}
		toks, errs := rc.Tokens(context.Background(), []rerank.ImageRef{{ContentID: rec.ContentID, Copy: cp},
			{ContentID: rec.ContentID, Path: p}}, nil)
		if errs != nil {
			t.Fatal(errs)
		}
		fromCopy, fromOrig := toks[0], toks[1]
		worstIx = max(worstIx, maxAbsDiff(embedded.Tokens[0], fromCopy))
		minCosIx = min(minCosIx, cosine(embedded.Tokens[0], fromCopy))
		worstOrig = max(worstOrig, maxAbsDiff(fromOrig, fromCopy))
		minCosOrig = min(minCosOrig, cosine(fromOrig, fromCopy))
		sc, err := rr.Images(context.Background(), text[0], [][]float32{fromCopy, fromOrig})
		if err != nil {
			t.Fatal(err)
		}
		worstP = max(worstP, math.Abs(float64(sc[0].PMatch-sc[1].PMatch)))
		for _, v := range embedded.Tokens[0] {
			peak = max(peak, math.Abs(float64(v)))
		}
	}
	t.Logf("tokens from the copy against the embedded pixels': max abs %.3g, cosine %.6f; against the original's: "+
		"max abs %.3g, cosine %.6f; p_match %.2g; tokens up to %.3g", worstIx, minCosIx, worstOrig, minCosOrig, worstP, peak)
	if worstIx > copyTokenMaxAbs || minCosIx < copyTokenMinCosine {
		t.Errorf("tokens from the copies differ from the embedded pixels' by %.3g (cosine %.6f), over %g (%g)",
			worstIx, minCosIx, copyTokenMaxAbs, copyTokenMinCosine)
	}
	if worstOrig > copyTokenMaxAbs || minCosOrig < copyTokenMinCosine {
		t.Errorf("tokens from the copies differ from the originals' by %.3g (cosine %.6f), over %g (%g)",
			worstOrig, minCosOrig, copyTokenMaxAbs, copyTokenMinCosine)
	}
	if worstP > copyPMatchAbs {
		t.Errorf("a caption's match probability moves by %.3g between copy and original, over %g", worstP, copyPMatchAbs)
	}

	// the first query reranks every candidate from its copy: no original is opened
	rec := &openRecorder{}
	s, err := searcher.New(lib.DB(), m, info, searcher.Options{Thumb: lib.ThumbPath,
		Source: rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: 2, Open: rec.open})})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), searcher.ImageQuery{Text: "a red circle",
		Params: searcher.Params{K: 6, MinScore: searcher.Float(0)}})
	if err != nil || len(res.Hits) != 6 || res.Timings.TokenEncode == 0 || len(res.Warnings) != 0 {
		t.Fatalf("first query: %d hits, token encoding %.1f ms, warnings %v, %v", len(res.Hits), res.Timings.TokenEncode,
			res.Warnings, err)
	}
	opened := rec.opened() // one a candidate: the duplicate's copy twice
	if distinct := slices.Compact(slices.Sorted(slices.Values(opened))); len(opened) != 6 || len(distinct) != 5 {
		t.Errorf("the first query opened %d files, %d distinct, for 6 candidates of 5 contents: %v", len(opened),
			len(distinct), opened)
	}
	for _, p := range opened {
		if filepath.Dir(p) != dir {
			t.Errorf("the first query opened %s, not a copy", p)
		}
	}
}

// maxCopyBytes is the largest mean size of a model-resolution copy at S = 336..384 the copies
// policy promises: 60 KB a photo.
const maxCopyBytes = 60_000

// TestCopySize: the copies of the encoder's test photos (real photographs and the Hubble deep
// field, the most detailed) at the real-size models' inputs, 336 px centre-cropped (CLIP
// ViT-L/14@336) and 384 px squashed (BLIP, mPLUG), take at most maxCopyBytes on average.
// `go test -v -run TestCopySize ./indexer/` prints each size.
func TestCopySize(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("..", "encoder", "testdata", "photos", "*.*g"))
	if len(names) < 5 {
		t.Fatalf("%d test photos", len(names))
	}
	for _, c := range []struct {
		size   int
		resize string
	}{{336, encoder.ResizeCenterCrop}, {384, encoder.ResizeSquash}} {
		pre, err := encoder.NewPreprocessor(encoder.ImageSpec{Size: c.size, Resize: c.resize, Interpolation: "bicubic",
			Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.5, 0.5, 0.5}}, encoder.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var sum, most int
		for _, n := range names {
			img, err := photo.Decode(mustRead(t, n), photo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rgb, err := pre.Resized(img)
			if err != nil {
				t.Fatal(err)
			}
			data, err := turbojpeg.CompressSampled(rgb, copyQuality, turbojpeg.Sub444)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d px: %s %.1f KiB", c.size, filepath.Base(n), float64(len(data))/1024)
			sum += len(data)
			most = max(most, len(data))
		}
		mean := sum / len(names)
		t.Logf("%d px (%s): mean %.1f KiB, largest %.1f KiB", c.size, c.resize, float64(mean)/1024, float64(most)/1024)
		if mean > maxCopyBytes {
			t.Errorf("copies at %d px take %d bytes on average, over %d", c.size, mean, maxCopyBytes)
		}
	}
}

// TestCopiesTokensWithinBudget: the copies policy also stores tokens while the cache has room,
// and never evicts to make more: with room for two images, two of five contents get tokens
// (reruns change neither set) and all five get copies; a query reranks the two from the cache
// and the three others from their copies, opening no original.
func TestCopiesTokensWithinBudget(t *testing.T) {
	src := t.TempDir()
	cameraPhotos(t, src, 2)
	writeScenes(t, src, 0, 3, 96)
	m, info := testModel(t)
	lib := testLib(t, "")
	two := int64(2 * (8 + 2*m.Vision.TokenLen()))
	o := Options{Workers: 2, Tokens: TokensCopies, TokenBudget: two}
	if s, _ := run(t, lib, o, src); s.Indexed != 5 {
		t.Fatalf("index: %+v", s)
	}
	ix, err := New(lib, m, info, o)
	if err != nil {
		t.Fatal(err)
	}
	tokDir := library.TokenDir(lib.Dir(), ix.Namespace().Name(), info)
	copyDir := library.CopyDir(lib.Dir(), ix.Namespace().Name(), info)
	glob := func(dir, ext string) []string {
		names, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		return names
	}
	first := glob(tokDir, ".f16")
	if len(first) != 2 || len(glob(copyDir, library.CopyExt)) != 5 {
		t.Fatalf("%d token files (want 2, the budget's room) and %d copies (want 5)", len(first),
			len(glob(copyDir, library.CopyExt)))
	}
	for range 2 {
		if s, _ := run(t, lib, o, src); s.Unchanged != 5 {
			t.Fatalf("rerun: %+v", s)
		}
		if got := glob(tokDir, ".f16"); !slices.Equal(got, first) {
			t.Fatalf("a rerun changed the cached tokens: %v, then %v", first, got)
		}
	}

	rec := &openRecorder{}
	cache, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: tokDir, TokenLen: m.Vision.TokenLen(),
		Fill: rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: 2, Open: rec.open})})
	if err != nil {
		t.Fatal(err)
	}
	s, err := searcher.New(lib.DB(), m, info, searcher.Options{Thumb: lib.ThumbPath, Source: cache})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), searcher.ImageQuery{Text: "a red circle",
		Params: searcher.Params{K: 5, MinScore: searcher.Float(0)}})
	if err != nil || len(res.Hits) != 5 || len(res.Warnings) != 0 {
		t.Fatalf("query: %d hits, warnings %v, %v", len(res.Hits), res.Warnings, err)
	}
	opened := rec.opened()
	if len(opened) != 3 {
		t.Errorf("the query opened %d files for 3 candidates without cached tokens: %v", len(opened), opened)
	}
	for _, p := range opened {
		if filepath.Dir(p) != copyDir {
			t.Errorf("the query opened %s, not a copy", p)
		}
	}
}

// meanLevelDiff is the mean absolute difference, in 8-bit levels, of the RGB channels of two
// images of the same size.
func meanLevelDiff(a *image.RGBA, b image.Image) float64 {
	var sum float64
	bb := b.Bounds()
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			c := a.RGBAAt(x, y)
			r, g, bl, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			sum += math.Abs(float64(c.R)-float64(r>>8)) + math.Abs(float64(c.G)-float64(g>>8)) +
				math.Abs(float64(c.B)-float64(bl>>8))
		}
	}
	return sum / float64(3*a.Rect.Dx()*a.Rect.Dy())
}

// TestCopiesHEIC: a HEIC photo's copy is made from its own pixels (libheif's), and once its
// original is gone the rerank recomputes its tokens from that copy, not from its thumbnail.
func TestCopiesHEIC(t *testing.T) {
	src := t.TempDir()
	data := mustRead(t, filepath.Join("testdata", "images", "sample.heic"))
	p := writeFile(t, filepath.Join(src, "photo.heic"), data)
	m, info := testModel(t)
	lib := testLib(t, "")
	ix, err := New(lib, m, info, Options{Workers: 1, Tokens: TokensCopies})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ix.Add(context.Background(), []string{src}); err != nil || s.Indexed != 1 {
		t.Fatalf("index: %+v %v", s, err)
	}
	rec, err := lib.DB().ImageByPath(p)
	if err != nil {
		t.Fatal(err)
	}
	cp := library.CopyPath(library.CopyDir(lib.Dir(), ix.Namespace().Name(), info), rec.ContentID)
	cimg, err := photo.Decode(mustRead(t, cp), photo.Options{})
	if err != nil {
		t.Fatalf("no readable copy of the HEIC photo: %v", err)
	}
	d, err := ix.decode(data, photo.FormatHEIF, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ix.pre.Resized(d.model)
	if err != nil {
		t.Fatal(err)
	}
	if mean := meanLevelDiff(want, cimg); mean > 2 {
		t.Errorf("the copy differs from the HEIC's own model input by %.2f levels on average", mean)
	}
	thumb, err := photo.Decode(mustRead(t, lib.ThumbPath(rec.SHA256)), photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromThumb, err := ix.pre.Resized(thumb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the copy is %.2f levels from the HEIC's model input, its thumbnail %.2f", meanLevelDiff(want, cimg),
		meanLevelDiff(want, fromThumb))
	if err := os.Remove(p); err != nil { // the original is gone: copy, then thumbnail
		t.Fatal(err)
	}
	opens := &openRecorder{}
	s, err := searcher.New(lib.DB(), m, info, searcher.Options{Thumb: lib.ThumbPath,
		Source: rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: 1, Open: opens.open})})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), searcher.ImageQuery{Text: "a photo", Params: searcher.Params{K: 1,
		MinScore: searcher.Float(0)}})
	if err != nil || len(res.Hits) != 1 || len(res.Warnings) != 0 || res.Timings.TokenEncode == 0 {
		t.Fatalf("query: %d hits, warnings %v, token encoding %.1f ms, %v", len(res.Hits), res.Warnings, res.Timings.TokenEncode, err)
	}
	if got := opens.opened(); !slices.Equal(got, []string{cp}) {
		t.Errorf("the rerank opened %v, want the copy %s alone", got, cp)
	}
	out, err := m.Vision.Encode(context.Background(), []image.Image{d.model}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	toks, errs := rerank.NewRecompute(m, rerank.RecomputeOptions{Workers: 1}).Tokens(context.Background(),
		[]rerank.ImageRef{{ContentID: rec.ContentID, Copy: cp, Path: p, Fallback: lib.ThumbPath(rec.SHA256)}}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if diff, c := maxAbsDiff(out.Tokens[0], toks[0]), cosine(out.Tokens[0], toks[0]); diff > copyTokenMaxAbs || c < copyTokenMinCosine {
		t.Errorf("tokens from the HEIC's copy differ from its own pixels' by %.3g (cosine %.6f)", diff, c)
	}
}

// TestCopiesFilledOnRerun: a library indexed lazily gets its copies (and its tokens, the cache
// having room) from a copies rerun, which reports every file unchanged and rewrites no record;
// a deleted or emptied copy is written again by the next run, and a run with nothing missing
// writes nothing.
func TestCopiesFilledOnRerun(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, src, 0, 4, 64)
	_, info := testModel(t)
	lib := testLib(t, "")
	if s, _ := run(t, lib, Options{Tokens: TokensLazy}, src); s.Indexed != 4 {
		t.Fatalf("lazy run: %+v", s)
	}
	before := librarytest.Paths(t, lib.DB())
	rec, err := lib.DB().ImageByPath(filepath.Join(src, "scene-00001.png"))
	if err != nil {
		t.Fatal(err)
	}
	dir := library.CopyDir(lib.Dir(), info.Name, info)
	copies := func() map[string]os.FileInfo { // the non-empty ones
		out := map[string]os.FileInfo{}
		names, _ := filepath.Glob(filepath.Join(dir, "*"+library.CopyExt))
		for _, n := range names {
			if st, err := os.Stat(n); err == nil && st.Size() > 0 {
				out[filepath.Base(n)] = st
			}
		}
		return out
	}
	if n := len(copies()); n != 0 {
		t.Fatalf("a lazy run wrote %d copies", n)
	}
	cases := []struct {
		name    string
		damage  func()
		written int // copies (re)written by the run
	}{
		{"after a lazy run", func() {}, 4},
		{"nothing missing", func() {}, 0},
		{"a copy deleted", func() { os.Remove(library.CopyPath(dir, rec.ContentID)) }, 1},
		{"a copy emptied", func() { os.WriteFile(library.CopyPath(dir, rec.ContentID), nil, 0o644) }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.damage()
			old := copies()
			s, _ := run(t, lib, Options{Tokens: TokensCopies}, src)
			if s.Unchanged != 4 || s.Indexed != 0 {
				t.Fatalf("copies rerun: %+v, want every file unchanged", s)
			}
			now := copies()
			if len(now) != 4 {
				t.Fatalf("%d copies after the rerun, want 4", len(now))
			}
			written := 0
			for n, st := range now {
				if old[n] == nil || !os.SameFile(old[n], st) { // a write renames a new file over the name
					written++
				}
			}
			if written != c.written {
				t.Errorf("the rerun wrote %d copies, want %d", written, c.written)
			}
		})
	}
	after, err := lib.DB().ImageByPath(rec.Path)
	if err != nil || after.ID != rec.ID || after.Added != rec.Added || !slices.Equal(librarytest.Paths(t, lib.DB()), before) {
		t.Fatalf("the reruns rewrote records: %+v -> %+v (%v)", rec, after, err)
	}
	if toks, _ := filepath.Glob(filepath.Join(library.TokenDir(lib.Dir(), info.Name, info), "*.f16")); len(toks) != 4 {
		t.Errorf("copies reruns into a cache with room left %d token files, want 4", len(toks))
	}
}

// TestCopiesNeedOwnCatalog: like eager tokens, copies are written only for the library's own
// database, whose content ids name them; with another Catalog the policy writes nothing.
func TestCopiesNeedOwnCatalog(t *testing.T) {
	m, info := testModel(t)
	lib := testLib(t, "")
	ns, err := lib.DB().Namespace(info, store.NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := New(lib, m, info, Options{Tokens: TokensCopies, Catalog: &dbCatalog{db: lib.DB(), ns: ns}})
	if err != nil {
		t.Fatal(err)
	}
	if ix.copyDir != "" {
		t.Errorf("copies written to %s through a Catalog", ix.copyDir)
	}
	if _, err := os.Stat(filepath.Join(lib.Dir(), library.CopiesDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a copies folder was made: %v", err)
	}
}
