package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

// UsageError marks a command-line mistake (exit status 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

type config struct {
	n, queries    int
	quick         bool
	million       bool
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
	fs := flag.NewFlagSet("annbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.n, "n", 100_000, "base vectors")
	fs.IntVar(&c.queries, "queries", 1000, "queries")
	fs.BoolVar(&c.quick, "quick", false, "20,000 base vectors (overrides --n)")
	fs.BoolVar(&c.million, "million", false, "also build, open and search 1,000,000 vectors with glimpse-f32")
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
		return &UsageError{Err: err}
	}
	if c.quick {
		c.n = 20_000
	}
	for _, s := range strings.Split(*efs, ",") {
		e, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || e <= 0 {
			return &UsageError{Err: fmt.Errorf("bad --efs value %q", s)}
		}
		c.efs = append(c.efs, e)
	}
	if c.n < 100 || c.queries < 1 || repeats < 1 {
		return &UsageError{Err: fmt.Errorf("--n must be >= 100, --queries and --repeat >= 1")}
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "annbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.dir = d
	}
	c.progress, c.out = stderr, stdout
	return bench(ctx, c)
}

type report struct {
	N       int      `json:"n"`
	Dim     int      `json:"dim"`
	Results []Result `json:"results"`
}

func (c config) logf(format string, a ...any) {
	fmt.Fprintf(c.progress, "annbench: "+format+"\n", a...)
}

func bench(ctx context.Context, c config) error {
	t0 := time.Now()
	mix := newMixture(c.seed)
	queries := mix.sample(c.queries, c.seed+1)
	base := mix.sample(c.n, c.seed+2)
	c.logf("generated %d x %d base, %d queries in %.1fs", c.n, dataDim, c.queries, time.Since(t0).Seconds())
	t0 = time.Now()
	gt := groundTruth(base, queries, dataDim, 10)
	c.logf("exact ground truth in %.1fs", time.Since(t0).Seconds())
	rep := report{N: c.n, Dim: dataDim}

	path := tempDB(c.dir, "glimpse")
	buildS, err := buildGlimpse(path, base)
	if err != nil {
		return fmt.Errorf("glimpse build: %w", err)
	}
	c.logf("glimpse build %.1fs", buildS)
	for _, v := range []struct {
		impl string
		q    hnsw.Quantization
	}{{"glimpse-f32", hnsw.QuantizeNone}, {"glimpse-int8", hnsw.QuantizeInt8}} {
		r, err := runGlimpse(ctx, v.impl, path, buildS, v.q, queries, gt, c.efs)
		if err != nil {
			return fmt.Errorf("%s: %w", v.impl, err)
		}
		if v.q == hnsw.QuantizeInt8 {
			r.Note = "same file as glimpse-f32; int8 traversal codes built at open, floats re-score"
		}
		rep.Results = append(rep.Results, r)
		c.logf("%s done", v.impl)
	}
	_ = os.Remove(path)
	if c.noPeers {
		rep.Results = append(rep.Results, Result{Impl: "hnswlib", Skipped: "--no-peers"}, Result{Impl: "faiss-hnsw", Skipped: "--no-peers"})
	} else {
		rs, err := runPeers(ctx, c.python, c.dir, base, queries, gt, c.efs, c.progress)
		if err != nil {
			return fmt.Errorf("peers: %w", err)
		}
		rep.Results = append(rep.Results, rs...)
		c.logf("peers done")
	}
	if c.noCoder {
		rep.Results = append(rep.Results, Result{Impl: "coder-hnsw", Skipped: "--no-coder"})
	} else {
		r, err := runCoder(ctx, base, queries, gt, c.efs)
		if err != nil {
			return fmt.Errorf("coder-hnsw: %w", err)
		}
		rep.Results = append(rep.Results, r)
		c.logf("coder-hnsw done")
	}
	r, err := runBrute(ctx, base, queries, gt)
	if err != nil {
		return fmt.Errorf("brute: %w", err)
	}
	rep.Results = append(rep.Results, r)
	if c.million {
		r, err := c.millionRun(ctx, mix, queries)
		if err != nil {
			return fmt.Errorf("million: %w", err)
		}
		rep.Results = append(rep.Results, r)
	}
	printTable(c.out, rep)
	js, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.out, string(js))
	return err
}

// millionRun builds, opens and searches 1M vectors with glimpse-f32.
func (c config) millionRun(ctx context.Context, mix *mixture, queries []float32) (Result, error) {
	const n = 1_000_000
	t0 := time.Now()
	base := mix.sample(n, c.seed+2)
	gt := groundTruth(base, queries, dataDim, 10)
	c.logf("1M: data and ground truth in %.1fs", time.Since(t0).Seconds())
	path := tempDB(c.dir, "glimpse-1m")
	buildS, err := buildGlimpse(path, base)
	if err != nil {
		return Result{}, err
	}
	c.logf("1M: build %.1fs", buildS)
	r, err := runGlimpse(ctx, "glimpse-f32", path, buildS, hnsw.QuantizeNone, queries, gt, c.efs)
	r.N = n
	_ = os.Remove(path)
	return r, err
}

func printTable(w io.Writer, rep report) {
	fmt.Fprintf(w, "n=%d dim=%d, single-threaded, one query at a time, k=10, M=16, efConstruction=200\n", rep.N, rep.Dim)
	fmt.Fprintf(w, "%-14s %8s %8s %8s %6s %9s %10s\n", "impl", "build_s", "open_s", "B/vec", "ef", "recall10", "qps")
	for _, r := range rep.Results {
		name := r.Impl
		if r.N != 0 {
			name = fmt.Sprintf("%s@%d", r.Impl, r.N)
		}
		if r.Skipped != "" {
			fmt.Fprintf(w, "%-14s skipped: %s\n", name, r.Skipped)
			continue
		}
		for i, p := range r.Points {
			if i == 0 {
				fmt.Fprintf(w, "%-14s %8.1f %8.2f %8.0f %6d %9.4f %10.0f\n", name, r.BuildS, r.OpenS, r.BytesPerVec, p.Ef, p.Recall10, p.QPS)
			} else {
				fmt.Fprintf(w, "%-14s %8s %8s %8s %6d %9.4f %10.0f\n", "", "", "", "", p.Ef, p.Recall10, p.QPS)
			}
		}
	}
}
