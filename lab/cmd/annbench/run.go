package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/mixture"
	"github.com/glimpse-search/glimpse/store/hnsw"
)

type config struct {
	n, queries    int
	quick         bool
	million       bool
	millionOnly   bool
	efs           []int
	python        string
	noPeers       bool
	noCoder       bool
	seed          uint64
	dir           string
	progress, out io.Writer
}

// Run executes the benchmark for the command line args (without the
// program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "backends" { // the store's vector backends (backends.go)
		return runBackends(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("annbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.n, "n", 100_000, "base vectors")
	fs.IntVar(&c.queries, "queries", 1000, "queries")
	fs.BoolVar(&c.quick, "quick", false, "20,000 base vectors (overrides --n)")
	fs.BoolVar(&c.million, "million", false, "also build, open and search 1,000,000 vectors with ours (f32 and int8)")
	fs.BoolVar(&c.millionOnly, "million-only", false, "only the 1,000,000-vector run of --million (skips the --n run)")
	efs := fs.String("efs", "10,20,40,80,160", "comma-separated ef values to sweep")
	fs.StringVar(&c.python, "peers-python", "/usr/bin/python3", "python with hnswlib/faiss for peers.py")
	fs.BoolVar(&c.noPeers, "no-peers", false, "skip hnswlib and faiss")
	fs.BoolVar(&c.noCoder, "no-coder", false, "skip coder/hnsw")
	fs.Uint64Var(&c.seed, "seed", 20240601, "dataset seed")
	fs.IntVar(&repeats, "repeat", 3, "passes per ef; the fastest is reported")
	fs.StringVar(&c.dir, "dir", "", "work directory (default: a new temp dir, removed after)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &cli.UsageError{Err: err}
	}
	if c.quick {
		c.n = 20_000
	}
	c.million = c.million || c.millionOnly
	for _, s := range strings.Split(*efs, ",") {
		e, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || e <= 0 {
			return &cli.UsageError{Err: fmt.Errorf("bad --efs value %q", s)}
		}
		c.efs = append(c.efs, e)
	}
	if c.n < 100 || c.queries < 1 || repeats < 1 {
		return &cli.UsageError{Err: fmt.Errorf("--n must be >= 100, --queries and --repeat >= 1")}
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "annbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.dir = d
	} else if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	c.progress, c.out = stderr, stdout
	return bench(ctx, c)
}

type report struct {
	N       int      `json:"n"`
	Dim     int      `json:"dim"`
	Results []Result `json:"results"`
	// Load is the 1-minute load average of the machine at the start and
	// the end of the run (Linux): on a shared machine, compare ratios
	// within one run.
	Load  [2]float64 `json:"load"`
	Cores int        `json:"cores"`
}

func (c config) logf(format string, a ...any) {
	fmt.Fprintf(c.progress, "annbench: "+format+"\n", a...)
}

func bench(ctx context.Context, c config) error {
	rep := report{N: c.n, Dim: dataDim, Cores: runtime.NumCPU()}
	rep.Load[0] = loadAverage()
	t0 := time.Now()
	mix := newMixture(c.seed)
	queries := mix.Sample(c.queries, c.seed+1)
	if c.millionOnly {
		rep.N = 0
	} else {
		base := mix.Sample(c.n, c.seed+2)
		c.logf("generated %d x %d base, %d queries in %.1fs", c.n, dataDim, c.queries, time.Since(t0).Seconds())
		rs, err := c.allImpls(ctx, base, queries)
		if err != nil {
			return err
		}
		rep.Results = rs
	}
	if c.million {
		rs, err := c.millionRun(ctx, mix, queries)
		if err != nil {
			return fmt.Errorf("million: %w", err)
		}
		rep.Results = append(rep.Results, rs...)
	}
	rep.Load[1] = loadAverage()
	printTable(c.out, rep)
	js, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.out, string(js))
	return err
}

// allImpls runs every implementation on base.
func (c config) allImpls(ctx context.Context, base, queries []float32) ([]Result, error) {
	t0 := time.Now()
	gt := groundTruth(base, queries, dataDim, 10)
	c.logf("exact ground truth in %.1fs", time.Since(t0).Seconds())
	out, err := c.ours(ctx, "glimpse", base, queries, gt)
	if err != nil {
		return nil, err
	}
	if c.noPeers {
		out = append(out, Result{Impl: "hnswlib", Skipped: "--no-peers"}, Result{Impl: "faiss-hnsw", Skipped: "--no-peers"})
	} else {
		rs, err := runPeers(ctx, c.python, c.dir, base, queries, gt, c.efs, c.progress)
		if err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		out = append(out, rs...)
		c.logf("peers done")
	}
	if c.noCoder {
		out = append(out, Result{Impl: "coder-hnsw", Skipped: "--no-coder"})
	} else {
		r, err := runCoder(ctx, base, queries, gt, c.efs)
		if err != nil {
			return nil, fmt.Errorf("coder-hnsw: %w", err)
		}
		out = append(out, r)
		c.logf("coder-hnsw done")
	}
	r, err := runBrute(ctx, base, queries, gt)
	if err != nil {
		return nil, fmt.Errorf("brute: %w", err)
	}
	return append(out, r), nil
}

// ours builds one file from base and searches it with f32 and with int8
// traversal.
func (c config) ours(ctx context.Context, name string, base, queries []float32, gt [][]int32) ([]Result, error) {
	n := len(base) / dataDim
	path := tempDB(c.dir, name)
	defer os.Remove(path)
	buildS, buildCPUS, file, err := buildGlimpse(path, base, func(format string, args ...any) {
		c.logf(name+": "+format, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("%s build: %w", name, err)
	}
	build := Result{BuildS: buildS, BuildCPUS: buildCPUS, File: file}
	c.logf("%s build %.1fs, %.1f CPU s (CompactFile %.1fs): %.0f B/vector, %.0f before CompactFile",
		name, buildS, buildCPUS, file.CompactS, float64(file.Bytes)/float64(n), float64(file.BuiltBytes)/float64(n))
	var out []Result
	for _, v := range []struct {
		impl string
		q    hnsw.Quantization
	}{{"glimpse-f32", hnsw.QuantizeNone}, {"glimpse-int8", hnsw.QuantizeInt8}} {
		r, err := runGlimpse(ctx, v.impl, path, build, v.q, queries, gt, c.efs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.impl, err)
		}
		if v.q == hnsw.QuantizeInt8 {
			r.File = nil
			r.Note = "same file as glimpse-f32; int8 traversal codes built at open, floats re-score"
		}
		out = append(out, r)
		c.logf("%s done", v.impl)
	}
	return out, nil
}

// millionRun builds, opens and searches 1M vectors with ours.
func (c config) millionRun(ctx context.Context, mix *mixture.Mixture, queries []float32) ([]Result, error) {
	const n = 1_000_000
	t0 := time.Now()
	base := mix.Sample(n, c.seed+2)
	gt := groundTruth(base, queries, dataDim, 10)
	c.logf("1M: data and ground truth in %.1fs", time.Since(t0).Seconds())
	rs, err := c.ours(ctx, "glimpse-1m", base, queries, gt)
	for i := range rs {
		rs[i].N = n
	}
	return rs, err
}

// loadAverage is the 1-minute load average, or 0 where /proc/loadavg is
// missing.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func printTable(w io.Writer, rep report) {
	fmt.Fprintf(w, "n=%d dim=%d, single-threaded, one query at a time, k=10, M=16, efConstruction=200; "+
		"%d cores, load average %.1f at start, %.1f at end\n", rep.N, rep.Dim, rep.Cores, rep.Load[0], rep.Load[1])
	fmt.Fprintf(w, "times: wall-clock, and in CPU seconds of the process (cpu); qps_cpu = queries per CPU second\n")
	fmt.Fprintf(w, "%-20s %8s %9s %7s %8s %6s %9s %9s %9s\n",
		"impl", "build_s", "build_cpu", "open_s", "B/vec", "ef", "recall10", "qps_cpu", "qps_wall")
	for _, r := range rep.Results {
		name := r.Impl
		if r.N != 0 {
			name = fmt.Sprintf("%s@%d", r.Impl, r.N)
		}
		if r.Skipped != "" {
			fmt.Fprintf(w, "%-20s skipped: %s\n", name, r.Skipped)
			continue
		}
		for i, p := range r.Points {
			if i == 0 {
				fmt.Fprintf(w, "%-20s %8.1f %9.1f %7.2f %8.0f %6d %9.4f %9.0f %9.0f\n",
					name, r.BuildS, r.BuildCPUS, r.OpenS, r.BytesPerVec, p.Ef, p.Recall10, p.QPSCPU, p.QPS)
			} else {
				fmt.Fprintf(w, "%-20s %8s %9s %7s %8s %6d %9.4f %9.0f %9.0f\n", "", "", "", "", "", p.Ef, p.Recall10, p.QPSCPU, p.QPS)
			}
		}
	}
	for _, r := range rep.Results {
		if f := r.File; f != nil {
			n := float64(rep.N)
			if r.N != 0 {
				n = float64(r.N)
			}
			fmt.Fprintf(w, "%s file, n=%.0f: %.1f MB = %.0f B/vector, %.2fx vectors+graph (after the build, before CompactFile: %.1f MB, %.2fx); "+
				"per vector: vectors %.0f, graph %.0f, log %.0f, records %.0f, free %.0f, headers and slack %.0f\n",
				r.Impl, n, float64(f.Bytes)/1e6, float64(f.Bytes)/n, f.RawRatio, float64(f.BuiltBytes)/1e6, f.BuiltRatio,
				float64(f.VectorBytes)/n, float64(f.GraphBytes)/n, float64(f.LogBytes)/n, float64(f.RecordBytes)/n,
				float64(f.FreeBytes)/n, float64(f.Bytes-f.VectorBytes-f.GraphBytes-f.LogBytes-f.RecordBytes-f.FreeBytes)/n)
		}
	}
}
