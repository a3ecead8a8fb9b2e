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
	QPS      float64 `json:"qps"`
}

// Result is one implementation's outcome.
type Result struct {
	Impl        string  `json:"impl"`
	N           int     `json:"n,omitempty"` // set when it differs from the run's n
	BuildS      float64 `json:"build_s"`
	BytesPerVec float64 `json:"bytes_per_vec"`
	OpenS       float64 `json:"open_s"`
	Points      []Point `json:"points"`
	Skipped     string  `json:"skipped,omitempty"`
	Note        string  `json:"note,omitempty"`
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
		el := math.Inf(1)
		for range repeats {
			t0 := time.Now()
			for i := range nq {
				got[i] = search(queries[i*dataDim:(i+1)*dataDim], ef)
			}
			el = min(el, time.Since(t0).Seconds())
		}
		pts = append(pts, Point{Ef: ef, Recall10: recallAt10(gt, got), QPS: float64(nq) / el})
	}
	return pts, nil
}

// buildGlimpse writes base into a new store.DB at path in batches of 1000
// (one bbolt transaction each) and returns the build seconds.
func buildGlimpse(path string, base []float32) (float64, error) {
	t0 := time.Now()
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
	}
	return time.Since(t0).Seconds(), db.Close()
}

// runGlimpse opens the file built by buildGlimpse (the int8 variant is the
// same file opened with int8 traversal codes) and sweeps ef.
func runGlimpse(ctx context.Context, impl, path string, buildS float64, q hnsw.Quantization,
	queries []float32, gt [][]int32, efs []int) (Result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Result{}, err
	}
	t0 := time.Now()
	db, err := store.Open(path, store.Options{Index: hnsw.Options{Quantize: q}})
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	ns, err := db.Namespace(benchModel, store.NamespaceOptions{NoCreate: true})
	if err != nil {
		return Result{}, err
	}
	openS := time.Since(t0).Seconds()
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
	return Result{Impl: impl, BuildS: buildS, BytesPerVec: float64(st.Size()) / float64(n),
		OpenS: openS, Points: pts}, err
}

func runCoder(ctx context.Context, base, queries []float32, gt [][]int32, efs []int) (Result, error) {
	g := coder.NewGraph[int32]()
	g.M, g.Ml, g.Distance = 16, 0.25, coder.CosineDistance
	g.Rng = rand.New(rand.NewSource(1))
	g.EfSearch = 200 // coder/hnsw uses EfSearch during Add as efConstruction
	n := len(base) / dataDim
	t0 := time.Now()
	for i := range n {
		if i%1000 == 0 && ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		g.Add(coder.MakeNode(int32(i), base[i*dataDim:(i+1)*dataDim]))
	}
	buildS := time.Since(t0).Seconds()
	pts, err := sweep(ctx, queries, gt, efs, func(v []float32, ef int) []int32 {
		g.EfSearch = ef
		nodes := g.Search(v, 10)
		out := make([]int32, len(nodes))
		for i, nd := range nodes {
			out[i] = nd.Key
		}
		return out
	})
	return Result{Impl: "coder-hnsw", BuildS: buildS, BytesPerVec: 0, Points: pts,
		Note: "in-memory only; EfSearch also used as efConstruction"}, err
}

func runBrute(ctx context.Context, base, queries []float32, gt [][]int32) (Result, error) {
	pts, err := sweep(ctx, queries, gt, []int{0}, func(v []float32, _ int) []int32 {
		return topK(base, v, dataDim, 10)
	})
	return Result{Impl: "brute", BytesPerVec: 4 * dataDim, Points: pts}, err
}

func tempDB(dir, name string) string { return filepath.Join(dir, name+".db") }
