package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

// diskCollection loads a collection of ns from the committed file.
func diskCollection(t testing.TB, ns *Namespace, name []byte) *collection {
	t.Helper()
	var c *collection
	err := ns.db.bolt.View(func(tx *bolt.Tx) (err error) {
		c, err = loadCollection(tx.Bucket(bucketNS).Bucket([]byte(ns.name)), name, ns.model.Dim, ns.db.o.Index)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameGraph fails unless b holds exactly a's slots, vectors, nodes and
// entry point.
func sameGraph(t testing.TB, a, b *hnsw.Index) {
	t.Helper()
	if a.Slots() != b.Slots() || a.Len() != b.Len() {
		t.Fatalf("slots %d/%d, live %d/%d", a.Slots(), b.Slots(), a.Len(), b.Len())
	}
	ae, al := a.Entry()
	be, bl := b.Entry()
	if ae != be || al != bl {
		t.Fatalf("entry %d/%d level %d/%d", ae, be, al, bl)
	}
	if !bytes.Equal(a.AppendVectors(nil, 0, a.Slots()), b.AppendVectors(nil, 0, b.Slots())) {
		t.Fatal("vectors differ")
	}
	for s := range uint32(a.Slots()) {
		if x, y := a.MarshalNode(nil, s), b.MarshalNode(nil, s); !bytes.Equal(x, y) {
			t.Fatalf("node %d differs:\n%x\n%x", s, x, y)
		}
	}
}

// TestGraphOnDiskMatchesMemory commits many small batches (new images,
// re-embedded images, deletes) and checks after each that the graph
// loaded from the file equals the one in memory, and that the log the
// batches write is swept away.
func TestGraphOnDiskMatchesMemory(t *testing.T) {
	n := 2400
	if testing.Short() {
		n = 1200
	}
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	vecs := clustered(n, 32, 20, 5)
	rng := rand.New(rand.NewPCG(3, 4))
	maxLog, logged := 0, false
	for b := 0; b < n; b += 60 {
		items := make([]NewImage, 0, 62)
		for i := b; i < b+60; i++ {
			items = append(items, newImage(i, vecs[i]))
		}
		if b > 0 {
			i := rng.IntN(b)
			items = append(items, newImage(i, vecs[(i+7)%n])) // same path, new vector
		}
		if _, err := ns.AddImages(items); err != nil {
			t.Fatal(err)
		}
		if b > 0 && b%300 == 0 {
			if err := db.DeleteImage(uint64(1 + rng.IntN(b))); err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
		}
		mem := ns.coll(false)
		sameGraph(t, mem.idx, diskCollection(t, ns, collImages).idx)
		logged = logged || len(mem.logSeqs) > 0
		maxLog = max(maxLog, len(mem.logSeqs))
	}
	if !logged {
		t.Fatal("no batch used the log")
	}
	// the log stays short: a lap of the sweep takes a few batches here
	if maxLog > 8 {
		t.Fatalf("log held %d writes at once", maxLog)
	}
	if r := recallDB(t, ns, clustered(40, 32, 20, 6), nil); r < 0.95 {
		t.Fatalf("recall %.3f", r)
	}
}

// v1Golden is testdata/upgrade/v1/results.json: what the schema-1 build
// (gen.go) returned for the queries clustered(320, 32, 12, 21)[300:].
type v1Golden struct {
	Images, Embeddings, Texts int
	Hits                      [][]ImageHit
	TextHits                  [][]TextHit
}

func TestUpgradeV1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "glimpse.db")
	gunzip(t, "testdata/upgrade/v1/glimpse.db.gz", path)
	js, err := os.ReadFile("testdata/upgrade/v1/results.json")
	if err != nil {
		t.Fatal(err)
	}
	var want v1Golden
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	queries := clustered(320, 32, 12, 21)[300:]
	check := func(db *DB, ns *Namespace) {
		t.Helper()
		if db.ImageCount() != want.Images || ns.Len() != want.Embeddings || ns.TextLen() != want.Texts {
			t.Fatalf("counts %d %d %d, want %+v", db.ImageCount(), ns.Len(), ns.TextLen(), want)
		}
		for i, q := range queries {
			got, err := ns.SearchImages(q, 10, 64, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want.Hits[i]) {
				t.Fatalf("query %d: got %v, schema 1 gave %v", i, got, want.Hits[i])
			}
			th, err := ns.SearchTexts(q, 5, 64)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(th, want.TextHits[i]) {
				t.Fatalf("text query %d: got %v, schema 1 gave %v", i, th, want.TextHits[i])
			}
		}
	}
	db := openTest(t, path)
	ns := nsTest(t, db)
	check(db, ns)
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if v := binary.LittleEndian.Uint32(tx.Bucket(bucketMeta).Get(keySchema)); v != SchemaVersion {
			t.Errorf("schema %d after upgrade", v)
		}
		if tx.Bucket(bucketNS).Bucket([]byte(testModel.Name)).Bucket(collImages).Bucket(bucketNodeV1) != nil {
			t.Error("schema-1 node bucket left behind")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// the upgraded file takes new batches and reopens as it was
	addN(t, ns, clustered(400, 32, 12, 22), 300, 400, 25)
	before := searchAll(t, ns, queries)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path)
	ns = nsTest(t, db)
	if after := searchAll(t, ns, queries); !slices.EqualFunc(before, after, slices.Equal) {
		t.Fatal("results differ after reopening the upgraded file")
	}
}

func gunzip(t testing.TB, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCompactFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	dim := 256
	model := ModelInfo{Name: "wide", Dim: dim, BundleHash: "h"}
	n := 3000
	if testing.Short() {
		n = 1500
	}
	vecs := clustered(n+20, dim, 30, 9)
	db := openTest(t, path)
	ns, err := db.Namespace(model, NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addN(t, ns, vecs, 0, n, 250)
	before := searchAll(t, ns, vecs[n:])
	raw, err := db.Space()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CompactFile(path, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Fatalf("temporary copy left behind: %v", err)
	}
	db = openTest(t, path)
	ns, err = db.Namespace(model, NamespaceOptions{NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := searchAll(t, ns, vecs[n:]); !slices.EqualFunc(before, after, slices.Equal) {
		t.Fatal("results differ after compaction")
	}
	sp, err := db.Space()
	if err != nil {
		t.Fatal(err)
	}
	if sp.Vectors != raw.Vectors || sp.Graph != raw.Graph || sp.Records != raw.Records {
		t.Fatalf("data changed in compaction: %+v vs %+v", sp, raw)
	}
	if sp.File >= raw.File {
		t.Fatalf("compacted file %d bytes, was %d", sp.File, raw.File)
	}
	// the file holds the data and little else (the target is 1.3x)
	data := sp.Vectors + sp.Graph + sp.Log + sp.Records
	if r := float64(sp.File) / float64(data); r > 1.1 {
		t.Fatalf("compacted file is %.2fx its data: %+v", r, sp)
	}
	if want := int64(n * 4 * dim); sp.Vectors < want || sp.Vectors > want+want/50 {
		t.Fatalf("vector bytes %d for %d raw", sp.Vectors, want)
	}
	t.Logf("%d x %d: %.0f B/vector before compaction, %.0f after: %+v", n, dim,
		float64(raw.File)/float64(n), float64(sp.File)/float64(n), sp)
}
