package modelbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"slices"
	"sort"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/searcher"
)

// Phases of [Measure]; each wants a fresh process for its memory figures.
const (
	PhaseMemory     = "memory"     // open, encode the pool images, one query: resident memory
	PhaseThroughput = "throughput" // images/s, queries/s, pairs/s, query latency
)

// Defaults of Options.
const (
	DefaultMinTime  = 10 * time.Second
	DefaultMaxIters = 10
	DefaultImages   = 256
	DefaultITMBatch = 16
)

// Options configures [Measure]. Zero fields take the defaults.
type Options struct {
	// Phase is PhaseMemory or PhaseThroughput (required).
	Phase string
	// Dir is a scratch folder for the synthetic index and its token cache (required). With an
	// ITM head the cache holds up to max(Ks) images' tokens (0.9 MB each for 577 x 768 in fp16).
	Dir string
	// Encoder opens the bundle (library path, threads, device). MaxBatch is raised to the
	// largest batch measured.
	Encoder encoder.Options
	// MinTime and MaxIters bound each timed measurement after its warm-up run: runs go on while
	// both are below their bound, and at least one is timed (defaults DefaultMinTime, 10 s, and
	// DefaultMaxIters). A 2-core CPU takes seconds per ViT-L/14@336 image, so the defaults keep
	// a real-size model to a few minutes.
	MinTime  time.Duration
	MaxIters int
	// VisionBatches are the vision batch sizes measured (default 1 and 8).
	VisionBatches []int
	// ITMBatch is the pairs per ITM call of the pairs/s figure (default DefaultITMBatch).
	ITMBatch int
	// Ks are the rerank depths of the end-to-end query (default 16 and 128); the memory phase
	// runs one query at Ks[0].
	Ks []int
	// Images is the size of the synthetic index (default DefaultImages, at least max(Ks)).
	Images int
	// Logger receives progress. Nil: silent.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Phase != PhaseMemory && o.Phase != PhaseThroughput {
		return o, fmt.Errorf("modelbench: phase %q is not %s or %s", o.Phase, PhaseMemory, PhaseThroughput)
	}
	if o.Dir == "" {
		return o, errors.New("modelbench: no scratch folder")
	}
	if o.MinTime <= 0 {
		o.MinTime = DefaultMinTime
	}
	if o.MaxIters <= 0 {
		o.MaxIters = DefaultMaxIters
	}
	if len(o.VisionBatches) == 0 {
		o.VisionBatches = []int{1, 8}
	}
	if o.ITMBatch <= 0 {
		o.ITMBatch = DefaultITMBatch
	}
	if len(o.Ks) == 0 {
		o.Ks = []int{16, 128}
	}
	if o.Images <= 0 {
		o.Images = DefaultImages
	}
	o.Images = max(o.Images, slices.Max(o.Ks))
	o.Encoder.MaxBatch = max(o.Encoder.MaxBatch, slices.Max(o.VisionBatches), o.ITMBatch)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Result is one phase's figures for one bundle.
type Result struct {
	Model        string           `json:"model"`
	Family       string           `json:"family"`
	Phase        string           `json:"phase"`
	ITM          bool             `json:"itm"`
	EmbeddingDim int              `json:"embedding_dim"`
	ImageSize    int              `json:"image_size"`
	ImageTokens  int              `json:"image_tokens"`
	TokenWidth   int              `json:"token_width"`
	MaxLength    int              `json:"max_length"`
	GraphBytes   map[string]int64 `json:"graph_bytes"`
	// Parameters is the manifest's `parameters` section, when the exporter wrote one.
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Memory      *Memory         `json:"memory,omitempty"`
	Throughput  *Throughput     `json:"throughput,omitempty"`
	WallSeconds float64         `json:"wall_s"`
	// LoadAverage is the machine's 1-minute load average at the start and the end of the phase.
	LoadAverage [2]float64 `json:"load_average"`
}

// Memory is the resident memory of a process that opens the bundle and runs one query, in MiB.
type Memory struct {
	StartMB    float64 `json:"start_mb"`     // before Open
	LoadPeakMB float64 `json:"load_peak_mb"` // high-water mark right after Open (file bytes and sessions)
	OpenMB     float64 `json:"open_mb"`      // after Open, with the Go heap's garbage returned
	// RunGrowthMB is the growth of each step: "vision" (the golden images, batched), "text" (one
	// query), "index" (the synthetic store and its filled token cache, opened), "query" (one text
	// query with its rerank of QueryK candidates through the searcher and the token cache).
	RunGrowthMB map[string]float64 `json:"run_growth_mb"`
	EndMB       float64            `json:"end_mb"`  // after the query
	PeakMB      float64            `json:"peak_mb"` // high-water mark of the whole run
	QueryK      int                `json:"query_k"`
}

// Throughput holds the speed figures: rates by the wall clock, and the CPU time (all threads,
// user + system) per item, which other processes sharing the cores inflate far less.
type Throughput struct {
	// VisionImagesPerS is keyed "batch1", "batch8", ...: preprocessed images through the graph.
	VisionImagesPerS   map[string]float64 `json:"vision_images_per_s"`
	VisionCPUSPerImage map[string]float64 `json:"vision_cpu_s_per_image"`
	// TextQueriesPerS: one query at a time, tokenizer included, with the states a rerank needs.
	TextQueriesPerS   float64 `json:"text_queries_per_s"`
	TextCPUMSPerQuery float64 `json:"text_cpu_ms_per_query"`
	// ITMPairsPerS: one text against ITMBatch candidates per call (0 without an ITM head).
	ITMPairsPerS    float64 `json:"itm_pairs_per_s,omitempty"`
	ITMCPUMSPerPair float64 `json:"itm_cpu_ms_per_pair,omitempty"`
	ITMBatch        int     `json:"itm_batch,omitempty"`
	// Query is keyed "k16", "k128", ...: the median end-to-end text query.
	Query map[string]Query `json:"query"`
}

// Query is the median of the timed runs of one end-to-end text query.
type Query struct {
	K        int              `json:"k"`
	Runs     int              `json:"runs"`
	Reranked int              `json:"reranked"`
	TotalMS  float64          `json:"total_ms"`
	CPUMS    float64          `json:"cpu_ms"` // CPU time per query, the mean of the timed runs
	Timings  searcher.Timings `json:"timings_ms"`
	Note     string           `json:"note,omitempty"`
}

// Measure opens the bundle in fsys and runs o.Phase on it.
func Measure(ctx context.Context, fsys fs.FS, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	t0, load0 := time.Now(), loadAverage()
	start, err := ReadUsage()
	if err != nil {
		return nil, err
	}
	m, err := encoder.Open(fsys, o.Encoder)
	if err != nil {
		return nil, fmt.Errorf("modelbench: %w", err)
	}
	defer m.Close()
	loaded, err := ReadUsage()
	if err != nil {
		return nil, err
	}
	debug.FreeOSMemory() // the bundle's file bytes are garbage once the sessions exist
	res := describe(fsys, m)
	res.Phase = o.Phase
	imgs, texts, err := inputs(fsys, m)
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, m: m, imgs: imgs, query: texts[0]}
	switch o.Phase {
	case PhaseMemory:
		res.Memory, err = b.memory(ctx, start, loaded)
	case PhaseThroughput:
		res.Throughput, err = b.throughput(ctx)
	}
	if err != nil {
		return nil, err
	}
	res.WallSeconds = round(time.Since(t0).Seconds(), 3)
	res.LoadAverage = [2]float64{load0, loadAverage()}
	return res, nil
}

// describe fills the bundle's identity and sizes.
func describe(fsys fs.FS, m *encoder.Model) *Result {
	man := m.Manifest
	res := &Result{Model: man.Name, Family: man.Family, ITM: m.HasITM(), EmbeddingDim: man.EmbeddingDim,
		ImageSize: man.Image.Size, ImageTokens: man.Dims.ImageTokens, TokenWidth: man.Dims.TokenWidth,
		MaxLength: man.Text.MaxLength, GraphBytes: map[string]int64{}}
	for name, g := range man.Graphs {
		if st, err := fs.Stat(fsys, g.File); err == nil {
			res.GraphBytes[name] = st.Size()
		}
	}
	if raw, err := fs.ReadFile(fsys, "model.json"); err == nil {
		var extra struct {
			Parameters json.RawMessage `json:"parameters"`
		}
		if json.Unmarshal(raw, &extra) == nil && len(extra.Parameters) > 0 {
			res.Parameters = extra.Parameters
		}
	}
	return res
}

// inputs are the bundle's golden images (decoded) and texts: real inputs every bundle carries.
func inputs(fsys fs.FS, m *encoder.Model) ([]image.Image, []string, error) {
	g, err := encoder.LoadGolden(fsys, m.Manifest)
	if err != nil {
		return nil, nil, fmt.Errorf("modelbench: %w", err)
	}
	var imgs []image.Image
	for _, gi := range g.Images {
		data, err := fs.ReadFile(fsys, gi.File)
		if err != nil {
			return nil, nil, fmt.Errorf("modelbench: golden image: %w", err)
		}
		img, err := m.Preprocessor().Decode(bytesReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("modelbench: golden image %s: %w", gi.File, err)
		}
		imgs = append(imgs, img)
	}
	var texts []string
	for _, t := range g.Texts {
		if t.Text != "" {
			texts = append(texts, t.Text)
		}
	}
	if len(texts) == 0 {
		return nil, nil, fmt.Errorf("modelbench: the golden file has no non-empty text")
	}
	return imgs, texts, nil
}

// bench is one phase's state.
type bench struct {
	o     Options
	m     *encoder.Model
	imgs  []image.Image
	query string
}

func (b *bench) memory(ctx context.Context, start, loaded Usage) (*Memory, error) {
	mem := &Memory{StartMB: mb(start.RSS), LoadPeakMB: mb(loaded.Peak), RunGrowthMB: map[string]float64{},
		QueryK: b.o.Ks[0]}
	u, err := ReadUsage()
	if err != nil {
		return nil, err
	}
	mem.OpenMB = mb(u.RSS)
	prev := u.RSS
	step := func(name string) error {
		u, err := ReadUsage()
		if err != nil {
			return err
		}
		mem.RunGrowthMB[name] = mb(u.RSS - prev)
		prev = u.RSS
		return nil
	}
	vis, err := b.m.Vision.Encode(ctx, b.imgs, encoder.VisionOptions{Tokens: b.m.HasITM()})
	if err != nil {
		return nil, fmt.Errorf("modelbench: vision: %w", err)
	}
	if err := step("vision"); err != nil {
		return nil, err
	}
	if _, err := b.m.Text.Encode(ctx, []string{b.query}, encoder.TextOptions{States: b.m.HasITM()}); err != nil {
		return nil, fmt.Errorf("modelbench: text: %w", err)
	}
	if err := step("text"); err != nil {
		return nil, err
	}
	lib, err := newLibrary(b.o.Dir, b.m, b.o.Images, vis.Tokens)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	debug.FreeOSMemory() // filling the token cache left garbage that a real query does not make
	if err := step("index"); err != nil {
		return nil, err
	}
	if _, err := lib.query(ctx, b.query, b.o.Ks[0]); err != nil {
		return nil, err
	}
	if err := step("query"); err != nil {
		return nil, err
	}
	u, err = ReadUsage()
	if err != nil {
		return nil, err
	}
	mem.EndMB, mem.PeakMB = mb(u.RSS), mb(u.Peak)
	return mem, nil
}

func (b *bench) throughput(ctx context.Context) (*Throughput, error) {
	th := &Throughput{VisionImagesPerS: map[string]float64{}, VisionCPUSPerImage: map[string]float64{},
		Query: map[string]Query{}}
	pre := b.m.Preprocessor()
	per := pre.Len()
	for _, n := range b.o.VisionBatches {
		pix := make([]float32, n*per)
		for i := range n {
			if err := pre.PixelsInto(pix[i*per:(i+1)*per], b.imgs[i%len(b.imgs)]); err != nil {
				return nil, fmt.Errorf("modelbench: preprocess: %w", err)
			}
		}
		runs, d, cpu, _, err := b.repeat(func() error {
			_, err := b.m.Vision.EncodePixels(ctx, pix, encoder.VisionOptions{})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("modelbench: vision batch %d: %w", n, err)
		}
		key := fmt.Sprintf("batch%d", n)
		th.VisionImagesPerS[key] = rate(runs*n, d)
		th.VisionCPUSPerImage[key] = round(cpu.Seconds()/float64(runs*n), 3)
		b.o.Logger.Info("vision", "batch", n, "images_per_s", th.VisionImagesPerS[key],
			"cpu_s_per_image", th.VisionCPUSPerImage[key])
	}
	runs, d, cpu, _, err := b.repeat(func() error {
		_, err := b.m.Text.Encode(ctx, []string{b.query}, encoder.TextOptions{States: b.m.HasITM()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("modelbench: text: %w", err)
	}
	th.TextQueriesPerS = rate(runs, d)
	th.TextCPUMSPerQuery = round(float64(cpu.Microseconds())/1e3/float64(runs), 3)
	vis, err := b.m.Vision.Encode(ctx, b.imgs, encoder.VisionOptions{Tokens: b.m.HasITM()})
	if err != nil {
		return nil, fmt.Errorf("modelbench: vision: %w", err)
	}
	if b.m.HasITM() {
		if err := b.itm(ctx, th, vis.Tokens); err != nil {
			return nil, err
		}
	}
	lib, err := newLibrary(b.o.Dir, b.m, b.o.Images, vis.Tokens)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	for _, k := range b.o.Ks {
		var all []searcher.ImageResult
		runs, _, cpu, first, err := b.repeat(func() error {
			res, err := lib.query(ctx, b.query, k)
			if err == nil {
				all = append(all, *res)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if !first {
			all = all[1:]
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Timings.Total < all[j].Timings.Total })
		med := all[(len(all)-1)/2]
		th.Query[fmt.Sprintf("k%d", k)] = Query{K: k, Runs: len(all), Reranked: med.Reranked,
			TotalMS: med.Timings.Total, CPUMS: round(float64(cpu.Microseconds())/1e3/float64(runs), 3),
			Timings: med.Timings, Note: med.Note}
		b.o.Logger.Info("query", "k", k, "total_ms", med.Timings.Total)
	}
	return th, nil
}

// itm measures ITM pairs/s: one text against ITMBatch candidate images per call.
func (b *bench) itm(ctx context.Context, th *Throughput, pool [][]float32) error {
	rr, err := rerank.New(b.m, rerank.Options{Batch: b.o.ITMBatch})
	if err != nil {
		return fmt.Errorf("modelbench: %w", err)
	}
	texts, _, err := rr.EncodeTexts(ctx, []string{b.query})
	if err != nil {
		return fmt.Errorf("modelbench: %w", err)
	}
	toks := make([][]float32, b.o.ITMBatch)
	for i := range toks {
		toks[i] = pool[i%len(pool)]
	}
	runs, d, cpu, _, err := b.repeat(func() error {
		_, err := rr.Images(ctx, texts[0], toks)
		return err
	})
	if err != nil {
		return fmt.Errorf("modelbench: itm: %w", err)
	}
	th.ITMPairsPerS, th.ITMBatch = rate(runs*b.o.ITMBatch, d), b.o.ITMBatch
	th.ITMCPUMSPerPair = round(float64(cpu.Microseconds())/1e3/float64(runs*b.o.ITMBatch), 3)
	b.o.Logger.Info("itm", "batch", b.o.ITMBatch, "pairs_per_s", th.ITMPairsPerS)
	return nil
}

// repeat times f: the first run is a warm-up unless it alone took MinTime (a multi-second run
// of a real-size model, whose first-run overhead is negligible: it is then the measurement).
// Otherwise runs are timed until MinTime has passed or MaxIters were timed (at least one is).
// It returns the timed runs, their wall time, their CPU time, and whether the first run counted.
func (b *bench) repeat(f func() error) (n int, wall, cpu time.Duration, firstCounts bool, err error) {
	start, cpu0 := time.Now(), cpuTime()
	if err := f(); err != nil {
		return 0, 0, 0, false, err
	}
	if d := time.Since(start); d >= b.o.MinTime {
		return 1, d, cpuTime() - cpu0, true, nil
	}
	start, cpu0 = time.Now(), cpuTime()
	for n == 0 || n < b.o.MaxIters && time.Since(start) < b.o.MinTime {
		if err := f(); err != nil {
			return 0, 0, 0, false, err
		}
		n++
	}
	return n, time.Since(start), cpuTime() - cpu0, false, nil
}

func rate(n int, d time.Duration) float64 { return round(float64(n)/d.Seconds(), 4) }
