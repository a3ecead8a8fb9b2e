package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/store"
	"github.com/glimpse-search/glimpse/store/weaviate/weaviatetest"
)

// usageBackends is the `annbench backends` command line.
const usageBackends = "annbench backends --weaviate-server BIN [--n 100000] [--queries 1000] [--ef 64] [--batch 1000] " +
	"[--concurrency 8] [--only embedded,weaviate-1,weaviate-3] [--seed S] [--dir DIR]"

// backendsConfig is the command line of `annbench backends`.
type backendsConfig struct {
	n, queries, ef, batch, conc int
	seed                        uint64
	server, dir                 string
	only                        []string
	progress, out               io.Writer
}

// BackendResult is one vector backend's figures, measured through store.Namespace exactly as
// the indexer writes (AddImages batches) and the searcher reads (SearchImages, k=10).
type BackendResult struct {
	Backend     string  `json:"backend"` // embedded, weaviate-1, weaviate-3
	URL         string  `json:"url"`
	IngestS     float64 `json:"ingest_s"`
	IngestVPS   float64 `json:"ingest_vectors_per_s"`
	Recall10    float64 `json:"recall10"`
	QPS1        float64 `json:"qps_1_client"`
	QPS8        float64 `json:"qps_8_clients"`
	P50ms       float64 `json:"p50_ms"` // one client
	P99ms       float64 `json:"p99_ms"`
	Concurrency int     `json:"concurrency"`
}

type backendsReport struct {
	N       int             `json:"n"`
	Dim     int             `json:"dim"`
	Queries int             `json:"queries"`
	K       int             `json:"k"`
	Ef      int             `json:"ef"`
	CPUs    int             `json:"cpus"`
	Load    [2]float64      `json:"load_avg_1m"` // before, after
	Results []BackendResult `json:"results"`
}

// runBackends benchmarks the store's vector backends on the ANN benchmark's dataset.
func runBackends(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backends", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c backendsConfig
	fs.IntVar(&c.n, "n", 100_000, "base vectors")
	fs.IntVar(&c.queries, "queries", 1000, "queries")
	fs.IntVar(&c.ef, "ef", 64, "search ef of every backend (embedded: per query; Weaviate: the collection's)")
	fs.IntVar(&c.batch, "batch", 1000, "vectors per AddImages batch")
	fs.IntVar(&c.conc, "concurrency", 8, "clients of the concurrent pass")
	fs.Uint64Var(&c.seed, "seed", 20240601, "dataset seed (annbench's)")
	fs.StringVar(&c.server, "weaviate-server", "", "weaviate-server binary (make weaviate-server builds it)")
	only := fs.String("only", "embedded,weaviate-1,weaviate-3", "backends to run")
	fs.StringVar(&c.dir, "dir", "", "work directory (default: a new temp dir, removed after)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &cli.UsageError{Err: err}
	}
	c.only = strings.Split(*only, ",")
	for _, b := range c.only {
		if !slices.Contains([]string{"embedded", "weaviate-1", "weaviate-3"}, b) {
			return &cli.UsageError{Err: fmt.Errorf("--only: unknown backend %q\nusage: %s", b, usageBackends)}
		}
		if b != "embedded" && c.server == "" {
			return &cli.UsageError{Err: fmt.Errorf("--weaviate-server is required for %s\nusage: %s", b, usageBackends)}
		}
	}
	if c.n < 100 || c.queries < 1 || c.ef < 1 || c.batch < 1 || c.conc < 1 || fs.NArg() > 0 {
		return &cli.UsageError{Err: fmt.Errorf("bad arguments\nusage: %s", usageBackends)}
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "annbench-backends-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.dir = d
	}
	c.progress, c.out = stderr, stdout
	return c.bench(ctx)
}

func (c backendsConfig) logf(format string, a ...any) {
	fmt.Fprintf(c.progress, "annbench backends: "+format+"\n", a...)
}

func (c backendsConfig) bench(ctx context.Context) error {
	rep := backendsReport{N: c.n, Dim: dataDim, Queries: c.queries, K: 10, Ef: c.ef, CPUs: runtime.NumCPU()}
	rep.Load[0] = loadAvg1()
	t0 := time.Now()
	mix := newMixture(c.seed)
	queries := mix.Sample(c.queries, c.seed+1)
	base := mix.Sample(c.n, c.seed+2)
	gt := groundTruth(base, queries, dataDim, 10)
	c.logf("%d x %d base, %d queries and exact ground truth in %.1fs", c.n, dataDim, c.queries, time.Since(t0).Seconds())
	for _, name := range c.only {
		r, err := c.one(ctx, name, base, queries, gt)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rep.Results = append(rep.Results, r)
	}
	rep.Load[1] = loadAvg1()
	tw := tabwriter.NewWriter(c.out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "backend\tingest vectors/s\trecall@10\tQPS 1 client\tQPS %d clients\tp50 ms\tp99 ms\t\n", c.conc)
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.0f\t%.0f\t%.2f\t%.2f\t\n", r.Backend, r.IngestVPS, r.Recall10, r.QPS1, r.QPS8, r.P50ms, r.P99ms)
	}
	tw.Flush()
	js, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.out, string(js))
	return err
}

// one measures one backend: a fresh library, its cluster started for it and stopped after.
func (c backendsConfig) one(ctx context.Context, name string, base, queries []float32, gt [][]int32) (BackendResult, error) {
	r := BackendResult{Backend: name, URL: store.SchemeEmbedded, Concurrency: c.conc}
	var b store.Backend
	if name != "embedded" {
		nodes, q := 1, fmt.Sprintf("ef=%d", c.ef)
		if name == "weaviate-3" {
			nodes, q = 3, q+"&replicas=3&shards=3&consistency=QUORUM"
		}
		t0 := time.Now()
		cl, err := weaviatetest.Start(ctx, weaviatetest.Options{Bin: c.server, Dir: filepath.Join(c.dir, name), Nodes: nodes})
		if err != nil {
			return r, err
		}
		defer cl.Close()
		c.logf("%s: %d node(s) up in %.1fs", name, nodes, time.Since(t0).Seconds())
		r.URL = cl.URL(true, q)
		if b, err = store.OpenBackend(r.URL, store.BackendOptions{Timeout: time.Minute}); err != nil {
			return r, err
		}
	}
	db, err := store.Open(filepath.Join(c.dir, name+".db"), store.Options{Backend: b})
	if err != nil {
		return r, err
	}
	defer db.Close()
	ns, err := db.Namespace(store.ModelInfo{Name: "annbench", Dim: dataDim, BundleHash: "annbench"}, store.NamespaceOptions{})
	if err != nil {
		return r, err
	}
	// ingestion: batches as the indexer sends them; ids come out 1..n in order
	n := len(base) / dataDim
	t0 := time.Now()
	for lo := 0; lo < n; lo += c.batch {
		hi := min(n, lo+c.batch)
		batch := make([]store.NewImage, 0, hi-lo)
		for i := lo; i < hi; i++ {
			batch = append(batch, store.NewImage{Record: benchRecord(i), Vector: base[i*dataDim : (i+1)*dataDim]})
		}
		ids, err := ns.AddImagesContext(ctx, batch)
		if err != nil {
			return r, fmt.Errorf("ingest: %w", err)
		}
		if ids[0] != uint64(lo+1) {
			return r, fmt.Errorf("ingest: ids start at %d, want %d", ids[0], lo+1)
		}
		if lo/c.batch%20 == 0 {
			c.logf("%s: %d/%d vectors, %.0f/s", name, hi, n, float64(hi)/time.Since(t0).Seconds())
		}
	}
	r.IngestS = time.Since(t0).Seconds()
	r.IngestVPS = float64(n) / r.IngestS
	nq := len(queries) / dataDim
	q := func(i int) []float32 { return queries[(i%nq)*dataDim : (i%nq+1)*dataDim] }
	search := func(i int) ([]int32, error) {
		hits, err := ns.SearchImagesContext(ctx, q(i), 10, c.ef, nil)
		if err != nil {
			return nil, err
		}
		out := make([]int32, len(hits))
		for j, h := range hits {
			out[j] = int32(h.ImageID - 1)
		}
		return out, nil
	}
	for i := range min(nq, 50) { // warm up
		if _, err := search(i); err != nil {
			return r, err
		}
	}
	// one client, one query at a time
	got := make([][]int32, nq)
	lat := make([]time.Duration, nq)
	t0 = time.Now()
	for i := range nq {
		s := time.Now()
		if got[i], err = search(i); err != nil {
			return r, err
		}
		lat[i] = time.Since(s)
	}
	r.QPS1 = float64(nq) / time.Since(t0).Seconds()
	r.Recall10 = recallAt10(gt, got)
	slices.Sort(lat)
	r.P50ms = float64(lat[nq/2].Microseconds()) / 1000
	r.P99ms = float64(lat[min(nq-1, nq*99/100)].Microseconds()) / 1000
	// c.conc clients, each one query at a time, 2 x nq queries in all
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, c.conc)
	t0 = time.Now()
	for w := range c.conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= 2*nq {
					return
				}
				if _, err := search(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return r, err
	}
	r.QPS8 = float64(2*nq) / time.Since(t0).Seconds()
	c.logf("%s: ingest %.0f vectors/s, recall@10 %.3f, QPS %.0f (1 client) %.0f (%d clients)",
		name, r.IngestVPS, r.Recall10, r.QPS1, r.QPS8, c.conc)
	return r, nil
}

// benchRecord is base vector i's image record.
func benchRecord(i int) store.ImageRecord {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return store.ImageRecord{Path: fmt.Sprintf("/bench/%03d/%07d.jpg", i%1000, i), SHA256: sha256.Sum256(b[:]),
		Size: 1, ModTime: time.Unix(1700000000, 0).UTC(), Width: 1, Height: 1}
}

// loadAvg1 is the 1-minute load average (0 when unknown).
func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	fmt.Sscan(string(b), &v)
	return v
}
