package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/testenv"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/store"
	"github.com/glimpse-search/glimpse/store/weaviate/weaviatetest"
)

// Environment of the cluster test (make test-cluster sets them).
const (
	envWeaviateServer = "GLIMPSE_WEAVIATE_SERVER" // the weaviate-server binary; unset: skip
	envClusterImages  = "GLIMPSE_CLUSTER_IMAGES"  // images to index (default 20,000)
	envClusterReport  = "GLIMPSE_CLUSTER_REPORT"  // write the figures as JSON to this file
	envClusterScenes  = "GLIMPSE_CLUSTER_SCENES"  // keep the generated scenes here (reused by reruns)
)

// clusterReport is what TestClusterFault measured.
type clusterReport struct {
	Images         int     `json:"images"`
	Nodes          int     `json:"nodes"`
	Replicas       int     `json:"replicas"`
	Shards         int     `json:"shards"`
	IndexSeconds   float64 `json:"index_seconds"`      // first part, all nodes up
	IndexDownSecs  float64 `json:"index_down_seconds"` // second part, one node killed
	Searches       int64   `json:"searches"`
	SearchErrors   int64   `json:"search_errors"`
	SearchesDown   int64   `json:"searches_while_down"`
	Failovers      int64   `json:"client_failovers"`
	CatchUpSeconds float64 `json:"catch_up_seconds"` // restart until the node holds every object
	RecallCluster  float64 `json:"recall10_cluster"`
	RecallEmbedded float64 `json:"recall10_embedded"`
	Agreement      float64 `json:"top10_agreement"` // cluster vs embedded
	Records        int     `json:"records"`
	Vectors        int     `json:"vectors"`
	NodeObjects    []int64 `json:"node_objects"`
}

// TestClusterFault indexes generated scenes through `indexer add --store` into a 3-node
// Weaviate cluster on loopback (replication factor 3, QUORUM), searching all along: it kills
// one node with SIGKILL, keeps searching and indexes the rest with the node down, restarts
// it, and checks that searches never failed, the node caught up, nothing indexed is lost, and
// the cluster's top 10 match brute force and the embedded backend over the same vectors.
func TestClusterFault(t *testing.T) {
	bin := os.Getenv(envWeaviateServer)
	if bin == "" {
		testenv.Missing(t, "%s not set: `make test-cluster` (part of `make test`) builds Weaviate and runs this test", envWeaviateServer)
	}
	n := 20_000
	if s := os.Getenv(envClusterImages); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 100 {
			t.Fatalf("%s=%q", envClusterImages, s)
		}
	}
	const nodes, replicas, shards = 3, 3, 3
	rep := clusterReport{Images: n, Nodes: nodes, Replicas: replicas, Shards: shards}
	ctx := context.Background()
	work := t.TempDir()
	scenes := clusterScenes(t, n, work)

	cl, err := weaviatetest.Start(ctx, weaviatetest.Options{Bin: bin, Dir: filepath.Join(work, "weaviate"), Nodes: nodes,
		Nice: 19, Env: []string{"GOMAXPROCS=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	url := cl.URL(true, fmt.Sprintf("replicas=%d&shards=%d&consistency=QUORUM", replicas, shards))
	data := filepath.Join(work, "data")
	add := func(dir string) float64 {
		t.Helper()
		t0 := time.Now()
		out, errOut, err := runCmd(t, "add", "--data", data, "--store", url, "--batch", "128", filepath.Join(scenes, dir, "images"))
		if err != nil {
			t.Fatalf("indexer add %s: %v\n%s\n%s", dir, err, out, errOut)
		}
		t.Logf("indexer add %s: %s", dir, out)
		return time.Since(t0).Seconds()
	}
	rep.IndexSeconds = add("a")

	// search while a node is killed
	lib, ns := openCluster(t, data, url)
	queries := queryVectors(t, ns, 200)
	loop := startSearching(ns, queries)
	time.Sleep(5 * time.Second)
	victim := 0 // the first node listed: clients must fail over too
	if err := cl.Kill(victim); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s", cl.Nodes[victim].Name)
	before := loop.done.Load()
	time.Sleep(15 * time.Second)
	textSearch(t, lib, "a small red circle")
	rep.SearchesDown = loop.done.Load() - before
	loop.stop(t, "node down")
	rep.Searches, rep.SearchErrors = loop.total, loop.errs
	lib.Close()

	rep.IndexDownSecs = add("b") // with the node down: QUORUM is 2 of 3

	lib, ns = openCluster(t, data, url)
	loop = startSearching(ns, queries)
	t0 := time.Now()
	if err := cl.Restart(ctx, victim); err != nil {
		t.Fatalf("restart: %v\n%s", err, cl.Log(victim))
	}
	class := waitCaughtUp(t, cl, victim, n, 5*time.Minute)
	rep.CatchUpSeconds = time.Since(t0).Seconds()
	t.Logf("%s rejoined and holds all %d objects after %.0fs", cl.Nodes[victim].Name, n, rep.CatchUpSeconds)
	time.Sleep(3 * time.Second)
	loop.stop(t, "restart and catch-up")
	rep.Searches, rep.SearchErrors = rep.Searches+loop.total, rep.SearchErrors+loop.errs
	rep.Failovers = failovers.Load()

	// nothing lost: records, vectors and every node agree
	rep.Records = lib.DB().ImageCount()
	r, err := ns.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep.Vectors = r.Vectors
	if rep.Records != n || r.Vectors != n || r.Orphans != 0 || len(r.Lost) != 0 {
		t.Fatalf("%d records, reconcile %+v; want %d records and vectors, nothing orphaned or lost", rep.Records, r, n)
	}
	st, err := cl.Status(ctx, class)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		rep.NodeObjects = append(rep.NodeObjects, s.Stats.ObjectCount)
	}

	// the same top 10 as brute force and as the embedded backend over the same vectors
	rep.RecallCluster, rep.RecallEmbedded, rep.Agreement = compareEmbedded(t, lib, ns, queries, filepath.Join(work, "embedded.db"))
	lib.Close()
	out, _ := json.Marshal(rep)
	t.Logf("cluster report: %s", out)
	if p := os.Getenv(envClusterReport); p != "" {
		if err := os.WriteFile(p, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rep.SearchErrors != 0 {
		t.Errorf("%d of %d searches failed", rep.SearchErrors, rep.Searches)
	}
	if rep.RecallCluster < 0.95 {
		t.Errorf("cluster recall@10 %.3f < 0.95", rep.RecallCluster)
	}
	for i, c := range rep.NodeObjects {
		if c != int64(n) {
			t.Errorf("node %d holds %d objects, want %d", i, c, n)
		}
	}
}

// failovers counts the store client's failovers to another node (its warnings).
var failovers atomic.Int64

type countFailovers struct{ slog.Handler }

func (h countFailovers) Enabled(context.Context, slog.Level) bool { return true }

func (h countFailovers) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "failing over") {
		failovers.Add(1)
	}
	return nil
}

// clusterScenes returns a folder holding n generated 64 px scenes in two parts, a (the first
// three quarters) and b: the one named by $GLIMPSE_CLUSTER_SCENES when it holds them already
// (they are deterministic), else generated there, or in work.
func clusterScenes(t *testing.T, n int, work string) string {
	t.Helper()
	dir := os.Getenv(envClusterScenes)
	if dir == "" {
		dir = filepath.Join(work, "scenes")
	}
	marker := filepath.Join(dir, fmt.Sprintf("complete-%d", n))
	if _, err := os.Stat(marker); err == nil {
		t.Logf("reusing the %d scenes in %s", n, dir)
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	first := n * 3 / 4
	for _, part := range []struct {
		dir        string
		start, cnt int
	}{{"a", 0, first}, {"b", first, n - first}} {
		if err := scene.Generate(context.Background(), scene.Options{N: part.cnt, Start: part.start, Seed: 77, Size: 64,
			Out: filepath.Join(dir, part.dir), Negatives: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d scenes in %.0fs", n, time.Since(t0).Seconds())
	return dir
}

// openCluster opens the library with the cluster as its backend.
func openCluster(t *testing.T, data, url string) (*library.Library, *store.Namespace) {
	t.Helper()
	b, err := store.OpenBackend(url, store.BackendOptions{Timeout: 20 * time.Second,
		Logger: slog.New(countFailovers{slog.DiscardHandler})})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := library.Open(data, library.Options{Backend: b, NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	info, err := library.ModelInfo(models.Default())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := lib.DB().Namespace(info, store.NamespaceOptions{NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	return lib, ns
}

// queryVectors picks n stored image vectors (fixed seed) as queries.
func queryVectors(t *testing.T, ns *store.Namespace, n int) [][]float32 {
	t.Helper()
	var all [][]float32
	if err := ns.ImageVectors(context.Background(), func(_ uint64, v []float32) error {
		all = append(all, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	out := make([][]float32, n)
	for i := range out {
		src := all[rng.IntN(len(all))]
		q := make([]float32, len(src))
		for j := range q {
			q[j] = src[j] + 0.05*float32(rng.NormFloat64())
		}
		out[i] = q
	}
	return out
}

// loopStats is a search loop running until stop.
type loopStats struct {
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	done        atomic.Int64
	total, errs int64
	mu          sync.Mutex
	firstErrs   []string
	nerr        atomic.Int64
}

// startSearching runs two goroutines searching stage 1 one query at a time.
func startSearching(ns *store.Namespace, qs [][]float32) *loopStats {
	ctx, cancel := context.WithCancel(context.Background())
	l := &loopStats{cancel: cancel}
	for g := range 2 {
		l.wg.Go(func() {
			for i := g; ctx.Err() == nil; i += 2 {
				_, err := ns.SearchImagesContext(ctx, qs[i%len(qs)], 10, 0, nil)
				if err != nil && ctx.Err() == nil {
					l.nerr.Add(1)
					l.mu.Lock()
					if len(l.firstErrs) < 5 {
						l.firstErrs = append(l.firstErrs, err.Error())
					}
					l.mu.Unlock()
				}
				l.done.Add(1)
			}
		})
	}
	return l
}

func (l *loopStats) stop(t *testing.T, phase string) {
	t.Helper()
	l.cancel()
	l.wg.Wait()
	l.total += l.done.Load()
	l.errs += l.nerr.Load()
	t.Logf("%s: %d searches, %d errors %v", phase, l.done.Load(), l.nerr.Load(), l.firstErrs)
	l.done.Store(0)
	l.nerr.Store(0)
	l.firstErrs = nil
}

// textSearch runs one text query through the whole engine (encoder, stage 1 on the cluster,
// ITM rerank) while a node is down.
func textSearch(t *testing.T, lib *library.Library, q string) {
	t.Helper()
	m, info, err := openModel("", encoder.ImageOptions{}, 0, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := searcher.New(lib.DB(), m, info, searcher.Options{Tokens: searcher.TokensRecompute})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Images(context.Background(), searcher.ImageQuery{Text: q, Params: searcher.Params{K: 16, Limit: 5}})
	if err != nil {
		t.Fatalf("text query with a node down: %v", err)
	}
	if res.Candidates == 0 {
		t.Fatalf("text query with a node down: no candidates (%s)", res.Reason)
	}
	t.Logf("text query %q with a node down: %d candidates, %d reranked, best %v", q, res.Candidates, res.Reranked,
		func() string {
			if len(res.Hits) == 0 {
				return res.Reason
			}
			return filepath.Base(res.Hits[0].Path)
		}())
}

// waitCaughtUp waits until node i holds all want objects of the library's class, and returns
// the class name.
func waitCaughtUp(t *testing.T, cl *weaviatetest.Cluster, i, want int, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, err := cl.Status(context.Background(), "")
		if err == nil {
			for _, s := range st {
				if s.Name != cl.Nodes[i].Name {
					continue
				}
				for _, sh := range s.Shards {
					if sh.Class != "" && s.Stats.ObjectCount >= int64(want) {
						return sh.Class
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d did not catch up in %s: %+v %v", i, limit, st, err)
		}
		time.Sleep(2 * time.Second)
	}
}

// top10 returns the indexes of the 10 rows of vs with the largest inner product with q.
func top10(q []float32, vs [][]float32) []int {
	type sc struct {
		i int
		s float32
	}
	best := make([]sc, 0, 11)
	for i, v := range vs {
		var d float32
		for j := range q {
			d += q[j] * v[j]
		}
		if len(best) == 10 && d <= best[9].s {
			continue
		}
		k := sort.Search(len(best), func(k int) bool { return best[k].s < d })
		best = append(best, sc{})
		copy(best[k+1:], best[k:])
		best[k] = sc{i, d}
		best = best[:min(10, len(best))]
	}
	out := make([]int, len(best))
	for k, b := range best {
		out[k] = b.i
	}
	return out
}

// compareEmbedded measures recall@10 of the cluster and of the embedded backend (the same
// records and vectors, copied into a new file) against brute force, and how often their top
// 10 agree.
func compareEmbedded(t *testing.T, lib *library.Library, ns *store.Namespace, qs [][]float32, path string) (rc, re, agree float64) {
	t.Helper()
	ctx := context.Background()
	vecs := map[uint64][]float32{}
	if err := ns.ImageVectors(ctx, func(id uint64, v []float32) error { vecs[id] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	edb, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer edb.Close()
	ens, err := edb.Namespace(ns.Model(), store.NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idOf := map[uint64]uint64{} // embedded id -> cluster id
	for after := uint64(0); ; {
		recs, next, err := lib.DB().Images(after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		batch := make([]store.NewImage, len(recs))
		for i, r := range recs {
			r.ID, r.ContentID = 0, 0
			batch[i] = store.NewImage{Record: r, Vector: vecs[recs[i].ID]}
		}
		ids, err := ens.AddImages(batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			idOf[id] = recs[i].ID
		}
		if next == 0 {
			break
		}
		after = next
	}
	ids := make([]uint64, 0, len(vecs))
	flat := make([][]float32, 0, len(vecs))
	for id, v := range vecs {
		ids, flat = append(ids, id), append(flat, v)
	}
	var hitC, hitE, same, total int
	for _, q := range qs {
		want := map[uint64]bool{}
		for _, i := range top10(q, flat) {
			want[ids[i]] = true
		}
		ch, err := ns.SearchImagesContext(ctx, q, 10, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		eh, err := ens.SearchImages(q, 10, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		inE := map[uint64]bool{}
		for _, h := range eh {
			inE[idOf[h.ImageID]] = true
			if want[idOf[h.ImageID]] {
				hitE++
			}
		}
		for _, h := range ch {
			if want[h.ImageID] {
				hitC++
			}
			if inE[h.ImageID] {
				same++
			}
		}
		total += 10
	}
	if total == 0 {
		t.Fatal(errors.New("no queries"))
	}
	return float64(hitC) / float64(total), float64(hitE) / float64(total), float64(same) / float64(total)
}
