package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/store/weaviate"
)

func TestParseBackendURL(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     BackendConfig // Scheme "" means: an error wrapping ErrBackendURL
	}{
		{"empty", "", BackendConfig{Scheme: SchemeEmbedded}},
		{"embedded", "embedded", BackendConfig{Scheme: SchemeEmbedded}},
		{"one node", "weaviate://127.0.0.1:8089", BackendConfig{Scheme: SchemeWeaviate, Hosts: []string{"127.0.0.1:8089"},
			Replicas: 1, Shards: 1, Consistency: "QUORUM", Prefix: "Glimpse", Ef: -1}},
		{"cluster", "weaviate://a:1,b:2,c:3?grpc=a:11,b:12,c:13&replicas=3&shards=6&consistency=one&tls=true&prefix=Lib&ef=128",
			BackendConfig{Scheme: SchemeWeaviate, Hosts: []string{"a:1", "b:2", "c:3"}, GRPCHosts: []string{"a:11", "b:12", "c:13"},
				Replicas: 3, Shards: 6, Consistency: "ONE", TLS: true, Prefix: "Lib", Ef: 128}},
		{"ipv6", "weaviate://[::1]:8080/", BackendConfig{Scheme: SchemeWeaviate, Hosts: []string{"[::1]:8080"},
			Replicas: 1, Shards: 1, Consistency: "QUORUM", Prefix: "Glimpse", Ef: -1}},
		{"other scheme", "postgres://x:1", BackendConfig{}},
		{"no port", "weaviate://host", BackendConfig{}},
		{"bad port", "weaviate://host:99999", BackendConfig{}},
		{"no host", "weaviate://", BackendConfig{}},
		{"credentials", "weaviate://user:secret@host:1", BackendConfig{}},
		{"path", "weaviate://host:1/v1", BackendConfig{}},
		{"unknown param", "weaviate://host:1?foo=1", BackendConfig{}},
		{"grpc count", "weaviate://a:1,b:2?grpc=a:11", BackendConfig{}},
		{"replicas 0", "weaviate://a:1?replicas=0", BackendConfig{}},
		{"consistency", "weaviate://a:1?consistency=most", BackendConfig{}},
		{"prefix", "weaviate://a:1?prefix=9x", BackendConfig{}},
		{"twice", "weaviate://a:1?shards=2&shards=3", BackendConfig{}},
		{"same host twice", "weaviate://a:1,a:1", BackendConfig{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBackendURL(tc.in)
			if tc.want.Scheme == "" {
				if !errors.Is(err, ErrBackendURL) {
					t.Fatalf("got %+v, %v; want an ErrBackendURL error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || !slices.Equal(got.Hosts, tc.want.Hosts) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			again, err := ParseBackendURL(got.String())
			if err != nil || again.String() != got.String() {
				t.Fatalf("round trip %q: %+v %v", got.String(), again, err)
			}
		})
	}
}

func FuzzParseBackendURL(f *testing.F) {
	for _, s := range []string{"", "embedded", "weaviate://127.0.0.1:8089", "weaviate://a:1,b:2?grpc=a:3,b:4&replicas=3",
		"weaviate://[::1]:1?tls=1&ef=-1&prefix=X_1", "weaviate://h:1?consistency=ALL&shards=64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseBackendURL(s)
		if err != nil {
			if !errors.Is(err, ErrBackendURL) {
				t.Fatalf("error not ErrBackendURL: %v", err)
			}
			return
		}
		again, err := ParseBackendURL(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("%q -> %q -> %+v, %v", s, c.String(), again, err)
		}
	})
}

// fakeColl is an in-memory vectorCollection that fails on demand.
type fakeColl struct {
	mu       sync.Mutex
	objs     map[uint64]weaviate.Object
	down     bool // every call fails with ErrUnavailable
	putLimit int  // > 0: the next Put stores this many objects, then fails
	failDel  bool
	puts     int
}

func newFake() *fakeColl { return &fakeColl{objs: map[uint64]weaviate.Object{}} }

var errDown = fmt.Errorf("fake: %w", weaviate.ErrUnavailable)

func (f *fakeColl) Put(_ context.Context, objs []weaviate.Object) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.puts++
	for i, o := range objs {
		if f.putLimit > 0 && i == f.putLimit {
			f.putLimit = 0
			return fmt.Errorf("fake: %d of %d stored: %w", i, len(objs), weaviate.ErrUnavailable)
		}
		o.Vector = slices.Clone(o.Vector)
		f.objs[o.ID] = o
	}
	return nil
}

func (f *fakeColl) Delete(_ context.Context, ids []uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.failDel {
		return errDown
	}
	for _, id := range ids {
		delete(f.objs, id)
	}
	return nil
}

func (f *fakeColl) Search(_ context.Context, vec []float32, k int, fl *weaviate.Filter) ([]weaviate.Hit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	q := normalised(vec)
	var hits []weaviate.Hit
	for id, o := range f.objs {
		if fl != nil {
			if !fl.From.IsZero() && (o.Captured.IsZero() || o.Captured.Before(fl.From)) ||
				!fl.To.IsZero() && (o.Captured.IsZero() || !o.Captured.Before(fl.To)) ||
				!strings.HasPrefix(o.Path, fl.PathPrefix) {
				continue
			}
		}
		hits = append(hits, weaviate.Hit{ID: id, Score: dot(q, o.Vector)})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	return hits[:min(k, len(hits))], nil
}

func (f *fakeColl) Vector(_ context.Context, id uint64, _ string) ([]float32, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, false, errDown
	}
	o, ok := f.objs[id]
	return slices.Clone(o.Vector), ok, nil
}

func (f *fakeColl) Count(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return 0, errDown
	}
	return len(f.objs), nil
}

func (f *fakeColl) IDs(_ context.Context, after uint64, limit int, vectors bool) ([]uint64, [][]float32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, nil, errDown
	}
	var ids []uint64
	for id := range f.objs {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(limit, len(ids))]
	var vecs [][]float32
	if vectors {
		for _, id := range ids {
			vecs = append(vecs, f.objs[id].Vector)
		}
	}
	return ids, vecs, nil
}

func (f *fakeColl) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	return nil
}

func (f *fakeColl) set(fn func(f *fakeColl)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// fakeBackend is the Weaviate backend over one fake collection.
func fakeBackend(t testing.TB, coll *fakeColl) *weaviateBackend {
	t.Helper()
	b, err := newWeaviateBackend(BackendConfig{Scheme: SchemeWeaviate, Hosts: []string{"127.0.0.1:1"}, Replicas: 1,
		Shards: 1, Consistency: weaviate.Quorum, Prefix: defaultPrefix, Ef: -1}, BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.open = func(class, desc string, dim int) (vectorCollection, error) { return coll, nil }
	b.probe = coll
	return b
}

func openRemote(t testing.TB, path string, coll *fakeColl) (*DB, *Namespace) {
	t.Helper()
	db, err := Open(path, Options{NoSync: true, Backend: fakeBackend(t, coll)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, nsTest(t, db)
}

// TestWeaviateAdapter runs the engine-facing operations on the Weaviate
// backend (over the fake) and checks them against the embedded backend
// holding the same images.
func TestWeaviateAdapter(t *testing.T) {
	dir := t.TempDir()
	coll := newFake()
	rdb, rns := openRemote(t, filepath.Join(dir, "remote.db"), coll)
	edb := openTest(t, filepath.Join(dir, "embedded.db"))
	ens := nsTest(t, edb)
	n := 600
	vecs := clustered(n+20, 32, 8, 11)
	addN(t, rns, vecs, 0, n, 100)
	addN(t, ens, vecs, 0, n, 100)
	// a duplicate of image 5's content under a new path, and a re-added path with new content
	dup := newImage(5, nil)
	dup.Record.Path = "/lib/f9/copy-of-5.jpg"
	moved := newImage(7, vecs[n+19])
	moved.Record.SHA256[0] ^= 1
	for _, ns := range []*Namespace{rns, ens} {
		if _, err := ns.AddImages([]NewImage{dup, moved}); err != nil {
			t.Fatal(err)
		}
	}
	if rns.Len() != ens.Len() || rdb.ImageCount() != edb.ImageCount() || len(coll.objs) != rdb.ImageCount() {
		t.Fatalf("remote %d contents %d images %d objects; embedded %d contents %d images",
			rns.Len(), rdb.ImageCount(), len(coll.objs), ens.Len(), edb.ImageCount())
	}
	dupRec, err := rdb.ImageByPath(dup.Record.Path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := coll.objs[dupRec.ID]; !ok || dot(v.Vector, normalised(vecs[5])) < 0.9999 {
		t.Fatalf("duplicate's object: %v %+v", ok, v)
	}
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []*ImageFilter{nil, {PathPrefix: "/lib/f2/"}, {From: day.Add(50 * time.Hour), To: day.Add(400 * time.Hour)},
		{Match: func(id uint64) bool { return id%2 == 0 }}} {
		for _, q := range vecs[n : n+10] {
			got, err := rns.SearchImages(q, 10, 0, f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ens.SearchImagesExact(q, 10, f)
			if err != nil {
				t.Fatal(err)
			}
			if !sameIDs(got, want) {
				t.Fatalf("filter %+v: remote %v, embedded exact %v", f, got, want)
			}
			exact, err := rns.SearchImagesExact(q, 10, f)
			if err != nil || !sameIDs(exact, want) {
				t.Fatalf("remote exact %v %v; want %v", exact, err, want)
			}
		}
	}
	if v, ok := rns.ImageVector(dupRec.ContentID); !ok || dot(v, normalised(vecs[5])) < 0.9999 {
		t.Fatalf("ImageVector: %v", ok)
	}
	if err := rdb.DeleteImage(dupRec.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := coll.objs[dupRec.ID]; ok {
		t.Fatal("deleted image's object still there")
	}
	if err := rdb.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rdb.Backend(); got != "weaviate://127.0.0.1:1" {
		t.Fatalf("Backend() = %q", got)
	}
}

func sameIDs(a, b []ImageHit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ImageID != b[i].ImageID {
			return false
		}
	}
	return true
}

// TestWeaviateBatchFailures: a batch that fails half-way in the backend is
// reported and leaves no record; sent again it is stored exactly once; a
// backend that is down gives ErrBackend everywhere; Reconcile removes the
// orphans of a batch never retried and of a failed delete, and drops the
// records whose vectors the backend lost.
func TestWeaviateBatchFailures(t *testing.T) {
	coll := newFake()
	path := filepath.Join(t.TempDir(), "g.db")
	db, ns := openRemote(t, path, coll)
	vecs := clustered(400, 32, 4, 3)
	addN(t, ns, vecs, 0, 100, 50)
	batch := func(from, to int) []NewImage {
		var out []NewImage
		for i := from; i < to; i++ {
			out = append(out, newImage(i, vecs[i]))
		}
		return out
	}

	coll.set(func(f *fakeColl) { f.putLimit = 25 })
	if _, err := ns.AddImages(batch(100, 150)); !errors.Is(err, ErrBackend) {
		t.Fatalf("half-failed batch: %v; want ErrBackend", err)
	}
	if db.ImageCount() != 100 || ns.Len() != 100 {
		t.Fatalf("after the failed batch: %d records, %d contents; want 100 (nothing half-recorded)", db.ImageCount(), ns.Len())
	}
	if _, err := db.ImageByPath(newImage(110, nil).Record.Path); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record of the failed batch: %v", err)
	}
	if _, err := ns.AddImages(batch(100, 150)); err != nil { // the retry
		t.Fatal(err)
	}
	if db.ImageCount() != 150 || len(coll.objs) != 150 {
		t.Fatalf("after the retry: %d records, %d objects; want 150 each", db.ImageCount(), len(coll.objs))
	}

	coll.set(func(f *fakeColl) { f.down = true })
	ctx := context.Background()
	if err := db.Ping(ctx); !errors.Is(err, ErrBackend) {
		t.Fatalf("Ping with the backend down: %v", err)
	}
	if _, err := ns.SearchImages(vecs[0], 10, 0, nil); !errors.Is(err, ErrBackend) {
		t.Fatalf("search with the backend down: %v", err)
	}
	if _, err := ns.AddImages(batch(150, 160)); !errors.Is(err, ErrBackend) || db.ImageCount() != 150 {
		t.Fatalf("add with the backend down: %v, %d records", err, db.ImageCount())
	}
	coll.set(func(f *fakeColl) { f.down = false })

	// a batch that reaches the backend only in part and is never sent again
	coll.set(func(f *fakeColl) { f.putLimit = 5 })
	if _, err := ns.AddImages(batch(150, 170)); err == nil {
		t.Fatal("want an error")
	}
	// a delete that reaches the file only
	rec, err := db.ImageByPath(newImage(3, nil).Record.Path)
	if err != nil {
		t.Fatal(err)
	}
	coll.set(func(f *fakeColl) { f.failDel = true })
	if err := db.DeleteImage(rec.ID); err != nil {
		t.Fatal(err)
	}
	coll.set(func(f *fakeColl) { f.failDel = false })
	hits, err := ns.SearchImages(vecs[3], 10, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.ImageID == rec.ID {
			t.Fatal("search returned the deleted image's orphan vector")
		}
	}
	// a vector the backend lost
	lost, err := db.ImageByPath(newImage(40, nil).Record.Path)
	if err != nil {
		t.Fatal(err)
	}
	coll.set(func(f *fakeColl) { delete(f.objs, lost.ID) })

	r, err := ns.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Orphans != 6 || len(r.Lost) != 1 || r.Lost[0].ID != lost.ID {
		t.Fatalf("reconcile: %+v; want 6 orphans (5 of the batch, 1 deleted) and image %d lost", r, lost.ID)
	}
	if db.ImageCount() != 148 || len(coll.objs) != 148 {
		t.Fatalf("after reconcile: %d records, %d objects; want 148 each", db.ImageCount(), len(coll.objs))
	}
	if _, err := db.ImageByPath(lost.Path); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lost record still there: %v", err)
	}
	if r, err := ns.Reconcile(ctx); err != nil || r.Orphans != 0 || len(r.Lost) != 0 {
		t.Fatalf("second reconcile: %+v %v", r, err)
	}

	// reopened, the library still agrees with the backend
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, ns2 := openRemote(t, path, coll)
	if db2.ImageCount() != 148 || ns2.Len() != 148 {
		t.Fatalf("reopened: %d records, %d contents", db2.ImageCount(), ns2.Len())
	}
	if r, err := ns2.Reconcile(ctx); err != nil || r.Vectors != 148 || r.Records != 148 {
		t.Fatalf("reconcile after reopen: %+v %v", r, err)
	}
}

// TestWeaviateLibraryClasses: two libraries (data dirs) and two namespaces
// get distinct collections.
func TestWeaviateLibraryClasses(t *testing.T) {
	dir := t.TempDir()
	var classes []string
	for _, name := range []string{"a.db", "b.db"} {
		b := fakeBackend(t, newFake())
		b.open = func(class, desc string, dim int) (vectorCollection, error) {
			if !strings.HasPrefix(class, "Glimpse_") || !strings.Contains(desc, "dim 32") {
				t.Errorf("class %q description %q", class, desc)
			}
			classes = append(classes, class)
			return newFake(), nil
		}
		db, err := Open(filepath.Join(dir, name), Options{NoSync: true, Backend: b})
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range []string{"one", "two"} {
			if _, err := db.Namespace(testModel, NamespaceOptions{Name: ns}); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	if len(classes) != 4 || len(slices.Compact(slices.Sorted(slices.Values(classes)))) != 4 {
		t.Fatalf("classes %v: want 4 distinct", classes)
	}
}

// TestBackendBinding: a library indexed in one backend refuses the other.
func TestBackendBinding(t *testing.T) {
	dir := t.TempDir()
	vecs := clustered(20, 32, 2, 1)
	for _, tc := range []struct {
		name   string
		first  bool // index with the remote backend first
		second bool
		ok     bool
	}{
		{"embedded then weaviate", false, true, false},
		{"weaviate then embedded", true, false, false},
		{"weaviate twice", true, true, true},
		{"embedded twice", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".db")
			open := func(remote bool) (*DB, error) {
				o := Options{NoSync: true}
				if remote {
					o.Backend = fakeBackend(t, newFake())
				}
				return Open(path, o)
			}
			db, err := open(tc.first)
			if err != nil {
				t.Fatal(err)
			}
			addN(t, nsTest(t, db), vecs, 0, 10, 10)
			db.Close()
			db, err = open(tc.second)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, err = db.Namespace(testModel, NamespaceOptions{})
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBackendMismatch)) {
				t.Fatalf("second open: %v (want ok=%v)", err, tc.ok)
			}
		})
	}
}

func TestImageVectors(t *testing.T) {
	dir := t.TempDir()
	vecs := clustered(50, 32, 3, 9)
	coll := newFake()
	_, rns := openRemote(t, filepath.Join(dir, "r.db"), coll)
	ens := nsTest(t, openTest(t, filepath.Join(dir, "e.db")))
	for _, ns := range []*Namespace{rns, ens} {
		addN(t, ns, vecs, 0, 50, 20)
		got := map[uint64][]float32{}
		if err := ns.ImageVectors(context.Background(), func(id uint64, v []float32) error { got[id] = v; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 50 {
			t.Fatalf("%d vectors", len(got))
		}
		for id, v := range got {
			if dot(v, normalised(vecs[id-1])) < 0.9999 {
				t.Fatalf("image %d: wrong vector", id)
			}
		}
	}
}
