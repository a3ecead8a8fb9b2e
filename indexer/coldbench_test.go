package indexer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/photo/heif/heiftest"
	"github.com/glimpse-search/glimpse/searcher"
)

// Sizes of the cold-query benchmark (GLIMPSE_BENCH_SCALE divides the photos).
const (
	coldPhotos  = 300 // 4032x3024, as a phone takes them: JPEGs, every 10th a HEIC and the one after it a PNG
	coldQueries = 20
	coldK       = 128
)

// TestBenchCold measures what a user with a photo library sees on a first query: 12 MP photos
// made from generated scenes (JPEGs; every 10th a HEIC, the next a PNG) are indexed with each
// token policy, then 20 distinct text queries run at K = 128, each first on a searcher whose
// token cache holds only what indexing stored, then repeated. The policies: eager, copies (the
// default budget holds every photo's tokens), copies-full (copies with a token cache that has
// no room, as in a library past its budget: every candidate's copy is decoded and encoded
// again) and lazy (every candidate's original is). GLIMPSE_BENCH_MODEL=DIR measures another
// bundle, GLIMPSE_BENCH_K and GLIMPSE_BENCH_PHOTOS change K and the number of photos,
// GLIMPSE_BENCH_POLICIES=copies-full,eager the policies measured. `make bench-cold`; the last
// line is one JSON object.
func TestBenchCold(t *testing.T) {
	if os.Getenv("GLIMPSE_BENCH") != "1" {
		t.Skip("set GLIMPSE_BENCH=1 to run the cold-query benchmark (make bench-cold)")
	}
	n := envInt("GLIMPSE_BENCH_PHOTOS", coldPhotos/benchScale())
	k := envInt("GLIMPSE_BENCH_K", coldK)
	m, info := testModel(t) // one intra-op thread per graph: one encoder run per core, as indexer add
	encoders := runtime.NumCPU()
	if dir := os.Getenv("GLIMPSE_BENCH_MODEL"); dir != "" { // ONNX Runtime's threads: one run at a time
		encoders = 1
		var err error
		if info, err = library.ModelInfo(os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		if m, err = encoder.Open(os.DirFS(dir), encoder.Options{}); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
	}
	all := []string{TokensEager, TokensCopies, coldCopiesFull, TokensLazy}
	policies := all
	if v := os.Getenv("GLIMPSE_BENCH_POLICIES"); v != "" {
		policies = strings.Split(v, ",")
		for _, p := range policies {
			if !slices.Contains(all, p) {
				t.Fatalf("GLIMPSE_BENCH_POLICIES: %q is not one of %s", p, strings.Join(all, ", "))
			}
		}
	}
	tmp := t.TempDir()
	photos, captions, mix := coldLibrary(t, filepath.Join(tmp, "photos"), n)
	fig := map[string]any{"model": info.Name, "photos": n, "k": k, "queries": coldQueries, "cpus": runtime.NumCPU(),
		"formats": mix}
	rep := newBenchReport()
	for _, policy := range policies {
		lib, err := library.Open(filepath.Join(tmp, policy), library.Options{})
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Tokens: policy, Encoders: encoders}
		if policy == coldCopiesFull {
			o.Tokens, o.TokenBudget = TokensCopies, 1
		}
		ix, err := New(lib, m, info, o)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s, err := ix.Add(context.Background(), []string{photos})
		if err != nil || s.Indexed != n {
			t.Fatalf("index: %+v %v", s, err)
		}
		rate := float64(n) / time.Since(start).Seconds()
		st, err := LibraryStats(lib, info)
		if err != nil {
			t.Fatal(err)
		}
		first, again := coldQueries2(t, lib, ix, captions, policy, k)
		p50f, p50a := median(first), median(again)
		tokKiB, copyKiB := float64(st.TokenBytes)/float64(n)/1024, float64(st.CopyBytes)/float64(n)/1024
		rep.row(fmt.Sprintf("%s: indexing, 12 MP photos", policy), rate, "images/s")
		rep.row(fmt.Sprintf("%s: token cache per photo", policy), tokKiB, "KiB")
		rep.row(fmt.Sprintf("%s: model-resolution copies per photo", policy), copyKiB, "KiB")
		rep.row(fmt.Sprintf("%s: first query, K = %d, p50", policy, k), p50f, "ms")
		rep.row(fmt.Sprintf("%s: the same query again, p50", policy), p50a, "ms")
		rep.row(fmt.Sprintf("%s: first / again", policy), p50f/p50a, "x")
		fig[policy] = map[string]float64{"index_images_per_s": roundTo(rate, 3), "token_kib_per_photo": roundTo(tokKiB, 3),
			"copy_kib_per_photo": roundTo(copyKiB, 3), "first_p50_ms": roundTo(p50f, 3), "again_p50_ms": roundTo(p50a, 3),
			"first_to_again": roundTo(p50f/p50a, 3)}
		lib.Close()
	}
	rep.print(t, fig)
}

// coldCopiesFull is the copies policy of a library past its token budget, as the cold-query
// benchmark names it: the token cache has no room, every candidate is recomputed from its copy.
const coldCopiesFull = "copies-full"

// coldQueries2 runs each caption as a query twice on a searcher opened for it alone, and
// returns the total milliseconds of the first and the second run. The searcher's token cache is
// the library's (what indexing stored) for eager and copies, a new empty folder for copies-full
// and lazy (which recompute from the library's copies, or from the originals).
func coldQueries2(t *testing.T, lib *library.Library, ix *Indexer, captions []string, policy string, k int) (first, again []float64) {
	m := ix.model
	for i, text := range captions {
		o := searcher.Options{}
		if policy == coldCopiesFull || policy == TokensLazy {
			o.CacheDir = filepath.Join(t.TempDir(), fmt.Sprint("cold-", i))
		}
		s, err := searcher.New(lib.DB(), m, ix.ns.Model(), o)
		if err != nil {
			t.Fatal(err)
		}
		for pass := range 2 {
			res, err := s.Images(context.Background(), searcher.ImageQuery{Text: text,
				Params: searcher.Params{K: k, MinScore: searcher.Float(0)}})
			if err != nil {
				t.Fatal(err)
			}
			if pass == 0 {
				first = append(first, res.Timings.Total)
			} else {
				again = append(again, res.Timings.Total)
			}
		}
	}
	return first, again
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// coldLibrary writes n generated scenes upscaled to 4032x3024 photos into dir: JPEGs (quality
// 90), every 10th a HEIC (HEVC quality 75, as heiftest writes it) and the one after it a PNG.
// It returns dir, the first caption of the first coldQueries scenes and the count of each
// format.
func coldLibrary(t *testing.T, dir string, n int) (string, []string, map[string]int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var captions []string
	mix := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				recs, scenes := scene.Records(23, i, false, 0, "test", "jpg")
				img, err := scene.Render(scenes[0], 256)
				if err != nil {
					t.Error(err)
					return
				}
				big := imaging.Resize(img, 4032, 3024, imaging.Linear)
				format, data := "jpg", []byte(nil)
				switch i % 10 {
				case 0:
					format = "heic"
					if data, err = heiftest.Encode(big, 75); err != nil {
						t.Error(err)
						return
					}
				case 1:
					format, data = "png", encodePNG(t, big)
				default:
					data = encodeJPEG(t, big, 90)
				}
				writeFile(t, filepath.Join(dir, fmt.Sprintf("IMG_%04d.%s", i, format)), data)
				mu.Lock()
				mix[format]++
				if i < coldQueries {
					captions = append(captions, recs[0].Sentences[0].Raw)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	slices.Sort(captions)
	return dir, captions, mix
}

// envInt is a positive whole number from the environment, else def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
