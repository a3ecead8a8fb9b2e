package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	coder "github.com/coder/hnsw"

	"github.com/glimpse-search/glimpse/store"
	"github.com/glimpse-search/glimpse/store/hnsw"
)

// Point is one ef setting's outcome.
type Point struct {
	Ef       int     `json:"ef"`
	Recall10 float64 `json:"recall10"`
	QPS      float64 `json:"qps"`     // queries per wall-clock second
	QPSCPU   float64 `json:"qps_cpu"` // queries per CPU second of the process
}

// Result is one implementation's outcome.
type Result struct {
	Impl        string  `json:"impl"`
	N           int     `json:"n,omitempty"` // set when it differs from the run's n
	BuildS      float64 `json:"build_s"`
	BuildCPUS   float64 `json:"build_cpu_s"`
	BytesPerVec float64 `json:"bytes_per_vec"`
	OpenS       float64 `json:"open_s"`
	OpenCPUS    float64 `json:"open_cpu_s"`
	Points      []Point `json:"points"`
	File        *File   `json:"file,omitempty"` // ours: where the bbolt file's bytes go
	Skipped     string  `json:"skipped,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// File describes the bbolt file of a glimpse build: its size after the
// bulk build and after store.CompactFile, and what the compacted file
// holds (store.Space).
type File struct {
	Bytes       int64   `json:"bytes"`        // compacted, as searched
	BuiltBytes  int64   `json:"built_bytes"`  // after the last batch, before CompactFile
	CompactS    float64 `json:"compact_s"`    // CompactFile's share of build_s
	VectorBytes int64   `json:"vector_bytes"` // float32 vector chunks
	GraphBytes  int64   `json:"graph_bytes"`  // adjacency chunks
	LogBytes    int64   `json:"log_bytes"`    // adjacency log
	RecordBytes int64   `json:"record_bytes"` // image records, paths, content hashes
	FreeBytes   int64   `json:"free_bytes"`   // free pages
	RawRatio    float64 `json:"raw_ratio"`    // bytes / (4*dim*n + graph_bytes)
	BuiltRatio  float64 `json:"built_ratio"`  // built_bytes / (4*dim*n + graph_bytes)
}

var benchModel = store.ModelInfo{Name: "annbench", Dim: dataDim, BundleHash: "synthetic"}

// repeats is how many times each ef pass runs; the fastest counts, which
// filters out time stolen by other processes on a shared machine.
var repeats = 3

// sweep runs every query one at a time for each ef (best of repeats
// passes); search returns dataset row ids.
func sweep(ctx context.Context, queries []float32, gt [][]int32, efs []int,
	search func(q []float32, ef int) []int32) ([]Point, error) {
	nq := len(queries) / dataDim
	var pts []Point
	for _, ef := range efs {
		if err := ctx.Err(); err != nil {
			return pts, err
		}
		got := make([][]int32, nq)
		search(queries[:dataDim], ef) // warm-up
		wall, cpu := math.Inf(1), math.Inf(1)
		for range repeats {
			sp := startSpan()
			for i := range nq {
				got[i] = search(queries[i*dataDim:(i+1)*dataDim], ef)
			}
			w, c := sp.seconds()
			wall, cpu = min(wall, w), min(cpu, c)
		}
		pts = append(pts, Point{Ef: ef, Recall10: recallAt10(gt, got), QPS: float64(nq) / wall, QPSCPU: float64(nq) / cpu})
	}
	return pts, nil
}

// span measures wall-clock and CPU seconds from its start.
type span struct {
	wall time.Time
	cpu  time.Duration
}

func startSpan() span { return span{time.Now(), cpuTime()} }

// seconds returns the wall and CPU seconds since the start (CPU: the
// wall seconds where CPU time is not measured).
func (s span) seconds() (wall, cpu float64) {
	wall = time.Since(s.wall).Seconds()
	if c := cpuTime(); c > 0 {
		return wall, (c - s.cpu).Seconds()
	}
	return wall, wall
}

// buildGlimpse writes base into a new store.DB at path in batches of 1000
// (one bbolt transaction each, as the indexer commits), then compacts the
// file once (store.CompactFile), and returns the build seconds (compaction
// included) and the file's breakdown.
func buildGlimpse(path string, base []float32, logf func(string, ...any)) (buildS, buildCPUS float64, _ *File, _ error) {
	sp := startSpan()
	built, err := addAll(path, base, sp, logf)
	if err != nil {
		return 0, 0, nil, err
	}
	t1 := time.Now()
	if err := store.CompactFile(path, store.Options{}); err != nil {
		return 0, 0, nil, err
	}
	compactS := time.Since(t1).Seconds()
	buildS, buildCPUS = sp.seconds()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return 0, 0, nil, err
	}
	defer db.Close()
	s, err := db.Space()
	if err != nil {
		return 0, 0, nil, err
	}
	raw := float64(len(base)*4 + int(s.Graph))
	return buildS, buildCPUS, &File{Bytes: s.File, BuiltBytes: built, CompactS: compactS,
		VectorBytes: s.Vectors, GraphBytes: s.Graph, LogBytes: s.Log, RecordBytes: s.Records, FreeBytes: s.Free,
		RawRatio: float64(s.File) / raw, BuiltRatio: float64(built) / raw}, db.Close()
}

// addAll adds base in batches of 1000 and returns the file size after the
// last batch. Every 100,000 vectors it logs the time since sp.
func addAll(path string, base []float32, sp span, logf func(string, ...any)) (int64, error) {
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	ns, err := db.Namespace(benchModel, store.NamespaceOptions{})
	if err != nil {
		return 0, err
	}
	n := len(base) / dataDim
	const batch = 1000
	for b := 0; b < n; b += batch {
		items := make([]store.NewImage, 0, batch)
		for i := b; i < min(n, b+batch); i++ {
			var key [8]byte
			binary.LittleEndian.PutUint64(key[:], uint64(i))
			items = append(items, store.NewImage{
				Record: store.ImageRecord{Path: fmt.Sprintf("v%08d", i), SHA256: sha256.Sum256(key[:])},
				Vector: base[i*dataDim : (i+1)*dataDim],
			})
		}
		if _, err := ns.AddImages(items); err != nil {
			return 0, err
		}
		if done := b + len(items); done%100_000 == 0 && done < n {
			w, c := sp.seconds()
			logf("added %d of %d vectors in %.0fs (%.0f CPU s)", done, n, w, c)
		}
	}
	if err := db.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// runGlimpse opens the file built by buildGlimpse (the int8 variant is the
// same file opened with int8 traversal codes) and sweeps ef.
func runGlimpse(ctx context.Context, impl, path string, build Result, q hnsw.Quantization,
	queries []float32, gt [][]int32, efs []int) (Result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Result{}, err
	}
	sp := startSpan()
	db, err := store.Open(path, store.Options{Index: hnsw.Options{Quantize: q}})
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	ns, err := db.Namespace(benchModel, store.NamespaceOptions{NoCreate: true})
	if err != nil {
		return Result{}, err
	}
	openS, openCPUS := sp.seconds()
	n := ns.Len()
	pts, err := sweep(ctx, queries, gt, efs, func(v []float32, ef int) []int32 {
		hits, err := ns.SearchImages(v, 10, ef, nil)
		if err != nil {
			panic(err) // broken invariant: the dataset's dimensions are fixed
		}
		out := make([]int32, len(hits))
		for i, h := range hits {
			out[i] = int32(h.ImageID - 1) // image ids are allocated 1.. in order
		}
		return out
	})
	return Result{Impl: impl, BuildS: build.BuildS, BuildCPUS: build.BuildCPUS, BytesPerVec: float64(st.Size()) / float64(n),
		OpenS: openS, OpenCPUS: openCPUS, Points: pts, File: build.File}, err
}

func runCoder(ctx context.Context, base, queries []float32, gt [][]int32, efs []int) (Result, error) {
	g := coder.NewGraph[int32]()
	g.M, g.Ml, g.Distance = 16, 0.25, coder.CosineDistance
	g.Rng = rand.New(rand.NewSource(1))
	g.EfSearch = 200 // coder/hnsw uses EfSearch during Add as efConstruction
	n := len(base) / dataDim
	sp := startSpan()
	for i := range n {
		if i%1000 == 0 && ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		g.Add(coder.MakeNode(int32(i), base[i*dataDim:(i+1)*dataDim]))
	}
	buildS, buildCPUS := sp.seconds()
	pts, err := sweep(ctx, queries, gt, efs, func(v []float32, ef int) []int32 {
		g.EfSearch = ef
		nodes := g.Search(v, 10)
		out := make([]int32, len(nodes))
		for i, nd := range nodes {
			out[i] = nd.Key
		}
		return out
	})
	return Result{Impl: "coder-hnsw", BuildS: buildS, BuildCPUS: buildCPUS, BytesPerVec: 0, Points: pts,
		Note: "in-memory only; EfSearch also used as efConstruction"}, err
}

func runBrute(ctx context.Context, base, queries []float32, gt [][]int32) (Result, error) {
	pts, err := sweep(ctx, queries, gt, []int{0}, func(v []float32, _ int) []int32 {
		return topK(base, v, dataDim, 10)
	})
	return Result{Impl: "brute", BytesPerVec: 4 * dataDim, Points: pts}, err
}

func tempDB(dir, name string) string { return filepath.Join(dir, name+".db") }
