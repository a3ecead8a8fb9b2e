package searcher

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/mixture"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/store"
)

// Benchmark sizes (GLIMPSE_BENCH_IMAGES overrides benchImages for a quick run).
const (
	benchImages  = 100_000
	benchTexts   = 10_000
	benchPool    = 64   // real scene images behind the synthetic records
	benchScenes  = 2000 // scenes whose embeddings the synthetic vectors surround; one query each
	benchQueries = 200
	benchSlowQ   = 24 // queries per K for the recompute strategy (a decode per candidate)
)

var benchKs = []int{16, 64, 128}

// poolSource serves real image tokens for synthetic records: content c gets pool image c%n.
// It stands in for the vision encoder when the token cache is first filled (not timed).
type poolSource struct{ tokens [][]float32 }

func (p *poolSource) Tokens(_ context.Context, refs []rerank.ImageRef, _ *rerank.Stats) ([][]float32, []error) {
	out := make([][]float32, len(refs))
	for i, r := range refs {
		out[i] = slices.Clone(p.tokens[int(r.ContentID)%len(p.tokens)])
	}
	return out, nil
}

// benchLibrary is a store of n images with synthetic vectors whose records point at a pool of
// real scene PNGs, and benchTexts texts with real captions and synthetic vectors. The vectors
// (for scale: the encoders cannot fill 100,000 in a benchmark's time) are drawn from the ANN
// benchmark's clustered recipe (package mixture) around real embeddings: benchScenes generated
// scenes are encoded, and each image vector is a near variant of one of their image embeddings
// (each text vector of one of their caption embeddings), so a text query's nearest images are
// where the model puts them, as in a real library. Vectors drawn uniformly on the sphere, or
// from clusters that ignore the model, leave the query in a region the graph was not built
// for, and the search cost then depends on that accident. The queries are captions of
// benchScenes distinct scenes, so their candidates differ as a real query stream's do.
type benchLibrary struct {
	db       *store.DB
	info     store.ModelInfo
	pngs     [][]byte
	queries  []string // one caption per scene
	build    time.Duration
	poolToks [][]float32
}

func newBenchLibrary(tb testing.TB, m *encoder.Model, n int) *benchLibrary {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := store.Open(filepath.Join(dir, "glimpse.db"), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	info := store.ModelInfo{Name: m.Manifest.Name, Dim: m.Manifest.EmbeddingDim, BundleHash: "bench"}
	ns, err := db.Namespace(info, store.NamespaceOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	lib := &benchLibrary{db: db, info: info}
	var pool, rest []image.Image // the pool's PNGs, then the other scenes (embeddings only)
	for i := range benchScenes {
		recs, scenes := scene.Records(4242, i, false, 0, "test", "png")
		lib.queries = append(lib.queries, recs[0].Sentences[i%len(recs[0].Sentences)].Raw)
		if i >= benchPool {
			img, err := scene.Render(scenes[0], 128)
			if err != nil {
				tb.Fatal(err)
			}
			rest = append(rest, img)
			continue
		}
		img, err := scene.Render(scenes[0], 256)
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if err := scene.Encode(&buf, img, "png"); err != nil {
			tb.Fatal(err)
		}
		lib.pngs = append(lib.pngs, buf.Bytes())
		pool = append(pool, img)
	}
	vis, err := m.Vision.Encode(ctx, pool, encoder.VisionOptions{Tokens: true})
	if err != nil {
		tb.Fatal(err)
	}
	lib.poolToks = vis.Tokens
	restVis, err := m.Vision.Encode(ctx, rest, encoder.VisionOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	centres := append(vis.Embeds, restVis.Embeds...) // scene i's embedding at i
	txt, err := m.Text.Encode(ctx, lib.queries, encoder.TextOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	d := info.Dim
	vecs := mixture.Around(centres, 7).Sample(n, 11)
	tvecs := mixture.Around(txt.Embeds, 8).Sample(benchTexts, 12)
	t0 := time.Now()
	const batch = 5000
	base := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += batch {
		var b []store.NewImage
		for i := start; i < min(start+batch, n); i++ {
			var sha [32]byte
			binary.BigEndian.PutUint64(sha[:], uint64(i)+1)
			b = append(b, store.NewImage{Vector: vecs[i*d : (i+1)*d], Record: store.ImageRecord{
				Path:     fmt.Sprintf("/bench/%02d/%d.png", i%16, i),
				SHA256:   sha,
				Width:    256,
				Height:   256,
				Captured: base.Add(time.Duration(i) * time.Hour),
			}})
		}
		if _, err := ns.AddImages(b); err != nil {
			tb.Fatal(err)
		}
	}
	var tbatch []store.NewText
	for i := range benchTexts {
		tbatch = append(tbatch, store.NewText{Record: store.TextRecord{Text: lib.queries[i%len(lib.queries)]},
			Vector: tvecs[i*d : (i+1)*d]})
	}
	if _, err := ns.AddTexts(tbatch); err != nil {
		tb.Fatal(err)
	}
	lib.build = time.Since(t0)
	return lib
}

// open returns a path's pool PNG (the recompute strategy's file reads).
func (l *benchLibrary) open(p string) (io.ReadCloser, error) {
	id, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".png"))
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(l.pngs[id%len(l.pngs)])), nil
}

// stageKeys are the timings reported, in order.
var stageKeys = []string{"tokenize", "text_encode", "image_encode", "ann", "fetch", "token_encode", "rerank", "overhead", "total"}

func stages(t Timings) map[string]float64 {
	return map[string]float64{"tokenize": t.Tokenize, "text_encode": t.TextEncode, "image_encode": t.ImageEncode,
		"ann": t.ANN, "fetch": t.Fetch, "token_encode": t.TokenEncode, "rerank": t.Rerank,
		"overhead": t.Overhead(), "total": t.Total}
}

// quantiles returns p50 and p99 of each stage over runs.
func quantiles(runs []Timings) map[string]map[string]float64 {
	out := map[string]map[string]float64{"p50": {}, "p99": {}}
	for _, k := range stageKeys {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = stages(r)[k]
		}
		slices.Sort(v)
		out["p50"][k] = roundTo(v[(len(v)-1)/2], 3)
		out["p99"][k] = roundTo(v[max(0, int(math.Ceil(0.99*float64(len(v))))-1)], 3)
	}
	return out
}

func roundTo(v float64, sig int) float64 {
	if v == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', sig, 64), 64)
	return f
}

// TestBenchReport measures query latency per stage on a 100,000-image index for K = 16, 64,
// 128 with both token strategies, image->text latency, and the rerank throughput, then prints
// a table and, as its last line, one JSON object. It runs only with GLIMPSE_BENCH=1
// (`make bench-query`); GLIMPSE_BENCH_IMAGES sets a smaller index for a quick run and
// GLIMPSE_BENCH_MODEL another model bundle folder.
func TestBenchReport(t *testing.T) {
	if os.Getenv("GLIMPSE_BENCH") != "1" {
		t.Skip("set GLIMPSE_BENCH=1 to run the query benchmark report")
	}
	n := benchImages
	if v, err := strconv.Atoi(os.Getenv("GLIMPSE_BENCH_IMAGES")); err == nil && v > 0 {
		n = v
	}
	bundle := models.Default() // GLIMPSE_BENCH_MODEL: another bundle folder
	if dir := os.Getenv("GLIMPSE_BENCH_MODEL"); dir != "" {
		bundle = os.DirFS(dir)
	}
	m, err := encoder.Open(bundle, encoder.Options{MaxBatch: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	lib := newBenchLibrary(t, m, n)
	figures := map[string]any{"model": m.Manifest.Name, "embedding_dim": m.Manifest.EmbeddingDim, "images": n,
		"texts": benchTexts, "index_build_s": roundTo(lib.build.Seconds(), 3)}
	var tab strings.Builder
	tw := tabwriter.NewWriter(&tab, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "QUERY (ms)\tQ\t%s\t\n", strings.Join(stageKeys, " p50/p99\t")+" p50/p99")
	row := func(name string, q int, qs map[string]map[string]float64) {
		var cells []string
		for _, k := range stageKeys {
			cells = append(cells, fmt.Sprintf("%.3g/%.3g", qs["p50"][k], qs["p99"][k]))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", name, q, strings.Join(cells, "\t"))
	}

	cache, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: filepath.Join(t.TempDir(), "tokens"),
		TokenLen: m.Vision.TokenLen(), Fill: &poolSource{lib.poolToks}})
	if err != nil {
		t.Fatal(err)
	}
	recompute := rerank.NewRecompute(m, rerank.RecomputeOptions{Open: lib.open})
	query := map[string]any{}
	gcs := map[string]uint32{} // GC cycles during each set of timed queries
	for _, strat := range []struct {
		name string
		src  rerank.Source
		q    int
	}{{string(TokensCache), cache, benchQueries}, {string(TokensRecompute), recompute, benchSlowQ}} {
		s, err := New(lib.db, m, lib.info, Options{Source: strat.src, RerankBatch: 128})
		if err != nil {
			t.Fatal(err)
		}
		perK := map[string]any{}
		for _, k := range benchKs {
			p := Params{K: k, Limit: 20, MinScore: Float(0)}
			run := func(i int) Timings {
				res, err := s.Images(ctx, ImageQuery{Text: lib.queries[i%len(lib.queries)], Params: p})
				if err != nil {
					t.Fatal(err)
				}
				if res.Reranked != k {
					t.Fatalf("reranked %d of k %d", res.Reranked, k)
				}
				return res.Timings
			}
			for i := range strat.q { // warm-up: ONNX Runtime shapes, and the cache's fill
				if strat.name == string(TokensCache) || i < 3 {
					run(i)
				}
			}
			runs := make([]Timings, strat.q)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for i := range runs {
				runs[i] = run(i)
			}
			runtime.ReadMemStats(&m1)
			gcs[fmt.Sprintf("text_to_image_%s_k%d", strat.name, k)] = m1.NumGC - m0.NumGC
			qs := quantiles(runs)
			perK[fmt.Sprintf("k%d", k)] = qs
			row(fmt.Sprintf("text->image %s k=%d", strat.name, k), strat.q, qs)
		}
		query[strat.name] = perK
	}
	figures["text_to_image"] = query
	figures["gc_cycles"] = gcs

	// image -> text by indexed id (stored vector, cached tokens), text encoder on the candidates
	s, err := New(lib.db, m, lib.info, Options{Source: cache, RerankBatch: 128})
	if err != nil {
		t.Fatal(err)
	}
	i2t := map[string]any{}
	for _, k := range benchKs {
		runs := make([]Timings, 50)
		for i := -3; i < len(runs); i++ {
			res, err := s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: uint64(1 + ((i+3)*97)%n)},
				Params: Params{K: k, Limit: 20, MinScore: Float(0)}})
			if err != nil {
				t.Fatal(err)
			}
			if i >= 0 {
				runs[i] = res.Timings
			}
		}
		qs := quantiles(runs)
		i2t[fmt.Sprintf("k%d", k)] = qs
		row(fmt.Sprintf("image->text cache k=%d", k), len(runs), qs)
	}
	figures["image_to_text"] = i2t
	tw.Flush()

	// rerank throughput: one text against b candidates per call
	thr := map[string]any{}
	var tt strings.Builder
	tw2 := tabwriter.NewWriter(&tt, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw2, "RERANK\tPAIRS/S\tITERATIONS\t")
	for _, b := range []int{16, 64, 128} {
		rr, err := rerank.New(m, rerank.Options{Batch: b})
		if err != nil {
			t.Fatal(err)
		}
		texts, _, err := rr.EncodeTexts(ctx, lib.queries[:1])
		if err != nil {
			t.Fatal(err)
		}
		toks := make([][]float32, b)
		for i := range toks {
			toks[i] = lib.poolToks[i%len(lib.poolToks)]
		}
		res := testing.Benchmark(func(bb *testing.B) {
			for bb.Loop() {
				if _, err := rr.Images(ctx, texts[0], toks); err != nil {
					bb.Fatal(err)
				}
			}
			bb.ReportMetric(float64(bb.N*b)/bb.Elapsed().Seconds(), "pairs/s")
		})
		v := res.Extra["pairs/s"]
		thr[fmt.Sprintf("batch%d", b)] = roundTo(v, 3)
		fmt.Fprintf(tw2, "batch %d\t%.4g\t%d\t\n", b, v, res.N)
	}
	tw2.Flush()
	figures["rerank_pairs_per_s"] = thr
	figures["default_tokens"] = string(DefaultTokens)
	out, err := json.Marshal(figures)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("index: %d images + %d texts (dim %d) built in %.1fs\n", n, benchTexts, lib.info.Dim, lib.build.Seconds())
	fmt.Print(tab.String())
	keys := slices.Sorted(maps.Keys(gcs))
	fmt.Print("GC cycles during the timed text->image queries:")
	for _, k := range keys {
		fmt.Printf(" %s %d", strings.TrimPrefix(k, "text_to_image_"), gcs[k])
	}
	fmt.Println()
	fmt.Print(tt.String())
	fmt.Println(string(out))
}
