package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/store/hnsw"
	bolt "go.etcd.io/bbolt"
)

var testModel = ModelInfo{Name: "tiny", Dim: 32, BundleHash: "abc123def4567890"}

func clustered(n, dim, k int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, k)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range dim {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[rng.IntN(k)]
		v := make([]float32, dim)
		var s float64
		for j := range dim {
			v[j] = c[j] + 0.6*float32(rng.NormFloat64())
			s += float64(v[j] * v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(s))
		}
		out[i] = v
	}
	return out
}

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{NoSync: true, Index: hnsw.Options{ExactBelow: 50}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func nsTest(t testing.TB, db *DB) *Namespace {
	t.Helper()
	ns, err := db.Namespace(testModel, NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// image i: path /lib/<folder i%4>/img<i>.jpg, its own content unless given,
// captured i hours after 2020-01-01.
func newImage(i int, vec []float32) NewImage {
	return NewImage{
		Record: ImageRecord{
			Path:     fmt.Sprintf("/lib/f%d/img%05d.jpg", i%4, i),
			SHA256:   sha256.Sum256([]byte(fmt.Sprint("content", i))),
			Size:     int64(1000 + i),
			ModTime:  time.Unix(1600000000+int64(i), 0).UTC(),
			Width:    640,
			Height:   480,
			Captured: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		},
		Vector: vec,
	}
}

func addN(t testing.TB, ns *Namespace, vecs [][]float32, from, to, batch int) {
	t.Helper()
	for b := from; b < to; b += batch {
		var items []NewImage
		for i := b; i < min(to, b+batch); i++ {
			items = append(items, newImage(i, vecs[i]))
		}
		if _, err := ns.AddImages(items); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	vecs := clustered(10, 32, 2, 1)
	in := newImage(3, vecs[3])
	ids, err := ns.AddImages([]NewImage{in})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Image(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	want := in.Record
	want.ID, want.ContentID, want.Added = ids[0], got.ContentID, got.Added
	if got != want || got.Added.IsZero() || got.ContentID == 0 {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	byPath, err := db.ImageByPath(in.Record.Path)
	if err != nil || byPath != got {
		t.Fatalf("ImageByPath: %+v %v", byPath, err)
	}
	if _, err := db.Image(999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing image: %v", err)
	}
	if _, err := db.ImageByPath("/nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing path: %v", err)
	}
	tids, err := ns.AddTexts([]NewText{{Record: TextRecord{Text: "a red cube", Source: "caption"}, Vector: vecs[0]}, {Record: TextRecord{Text: "note"}}})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := db.Text(tids[0])
	if err != nil || tr.Text != "a red cube" || tr.Source != "caption" {
		t.Fatalf("text: %+v %v", tr, err)
	}
	th, err := ns.SearchTexts(vecs[0], 1, 10)
	if err != nil || len(th) != 1 || th[0].TextID != tids[0] {
		t.Fatalf("text search: %v %v", th, err)
	}
	if db.TextCount() != 2 || ns.TextLen() != 1 {
		t.Fatalf("text counts %d %d", db.TextCount(), ns.TextLen())
	}
}

func TestPaging(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	vecs := clustered(25, 32, 2, 2)
	addN(t, ns, vecs, 0, 25, 10)
	var all []ImageRecord
	for after := uint64(0); ; {
		page, next, err := db.Images(after, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == 0 {
			break
		}
		after = next
	}
	if len(all) != 25 || db.ImageCount() != 25 {
		t.Fatalf("paged %d images, count %d", len(all), db.ImageCount())
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatal("not in id order")
		}
	}
}

func TestSharedContentAndUpdate(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	vecs := clustered(5, 32, 2, 3)
	a := newImage(1, vecs[1])
	b := newImage(2, nil)
	b.Record.SHA256 = a.Record.SHA256 // a copy of the same photo elsewhere
	ids, err := ns.AddImages([]NewImage{a, b})
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := db.Image(ids[0])
	rb, _ := db.Image(ids[1])
	if ra.ContentID != rb.ContentID || ns.Len() != 1 {
		t.Fatalf("content %d vs %d, %d embeddings", ra.ContentID, rb.ContentID, ns.Len())
	}
	if cid, ok, _ := db.ContentID(a.Record.SHA256); !ok || cid != ra.ContentID || !ns.HasContent(cid) {
		t.Fatal("ContentID lookup")
	}
	hits, _ := ns.SearchImages(vecs[1], 5, 10, nil)
	if len(hits) != 2 {
		t.Fatalf("both copies should be found: %v", hits)
	}
	// unknown content without vector
	c := newImage(3, nil)
	if _, err := ns.AddImages([]NewImage{c}); !errors.Is(err, ErrNoVector) {
		t.Fatalf("no vector: %v", err)
	}
	// re-adding a path with new content updates in place
	a2 := newImage(1, vecs[4])
	a2.Record.SHA256 = sha256.Sum256([]byte("edited"))
	ids2, err := ns.AddImages([]NewImage{a2})
	if err != nil || ids2[0] != ids[0] {
		t.Fatalf("update: %v %v", ids2, err)
	}
	r, _ := db.Image(ids[0])
	if r.Added != ra.Added || r.ContentID == ra.ContentID {
		t.Fatalf("update kept Added and changed content: %+v", r)
	}
	if db.ImageCount() != 2 || ns.Len() != 2 {
		t.Fatalf("after update: %d images %d embeddings", db.ImageCount(), ns.Len())
	}
	// deleting b orphans the old content: its embedding goes
	if err := db.DeleteImage(ids[1]); err != nil {
		t.Fatal(err)
	}
	if ns.Len() != 1 || db.ImageCount() != 1 {
		t.Fatalf("after delete: %d images %d embeddings", db.ImageCount(), ns.Len())
	}
	if err := db.DeleteImage(ids[1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double delete: %v", err)
	}
	if _, err := ns.AddImages([]NewImage{newImage(9, []float32{1})}); !errors.Is(err, ErrDimension) {
		t.Fatalf("dimension: %v", err)
	}
}

func TestDeleteAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	n := 3000
	if testing.Short() {
		n = 1500
	}
	vecs := clustered(n+100, 32, 20, 4)
	db := openTest(t, path)
	ns := nsTest(t, db)
	addN(t, ns, vecs, 0, n, 250)
	deleted := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(n)[:n*3/10] {
		id := uint64(i + 1) // ids are allocated from 1 in order
		if err := db.DeleteImage(id); err != nil {
			t.Fatal(err)
		}
		deleted[id] = true
	}
	before := searchAll(t, ns, vecs[n:])
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path)
	ns = nsTest(t, db)
	if db.ImageCount() != n-len(deleted) || ns.Len() != n-len(deleted) {
		t.Fatalf("reopened: %d images, %d embeddings", db.ImageCount(), ns.Len())
	}
	after := searchAll(t, ns, vecs[n:])
	for i := range before {
		if fmt.Sprint(before[i]) != fmt.Sprint(after[i]) {
			t.Fatalf("query %d differs after reopen:\n%v\n%v", i, before[i], after[i])
		}
		for _, h := range after[i] {
			if deleted[h.ImageID] {
				t.Fatalf("deleted image %d returned", h.ImageID)
			}
		}
	}
	if r := recallDB(t, ns, vecs[n:], nil); r < 0.95 {
		t.Fatalf("recall after 30%% deletes and reopen: %.3f", r)
	}
	if err := ns.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path)
	ns = nsTest(t, db)
	if ns.Len() != n-len(deleted) {
		t.Fatalf("after compact+reopen: %d", ns.Len())
	}
	if r := recallDB(t, ns, vecs[n:], nil); r < 0.95 {
		t.Fatalf("recall after compact: %.3f", r)
	}
}

func searchAll(t testing.TB, ns *Namespace, qs [][]float32) [][]ImageHit {
	t.Helper()
	out := make([][]ImageHit, len(qs))
	for i, q := range qs {
		h, err := ns.SearchImages(q, 10, 64, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = h
	}
	return out
}

func recallDB(t testing.TB, ns *Namespace, qs [][]float32, f *ImageFilter) float64 {
	t.Helper()
	hit, total := 0, 0
	for _, q := range qs {
		want, err := ns.SearchImagesExact(q, 10, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ns.SearchImages(q, 10, 64, f)
		if err != nil {
			t.Fatal(err)
		}
		in := map[uint64]bool{}
		for _, h := range got {
			in[h.ImageID] = true
		}
		for _, h := range want {
			if in[h.ImageID] {
				hit++
			}
		}
		total += len(want)
	}
	if total == 0 {
		return 1
	}
	return float64(hit) / float64(total)
}

func TestFilters(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	n := 2000
	vecs := clustered(n+50, 32, 10, 5)
	addN(t, ns, vecs, 0, n, 500)
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		f    ImageFilter
		ok   func(i int) bool // on the image index i (id i+1)
	}{
		{"folder", ImageFilter{PathPrefix: "/lib/f2/"}, func(i int) bool { return i%4 == 2 }},
		{"date range", ImageFilter{From: day.Add(100 * time.Hour), To: day.Add(1100 * time.Hour)},
			func(i int) bool { return i >= 100 && i < 1100 }},
		{"narrow (exact)", ImageFilter{From: day.Add(10 * time.Hour), To: day.Add(30 * time.Hour), PathPrefix: "/lib/f1/"},
			func(i int) bool { return i >= 10 && i < 30 && i%4 == 1 }},
		{"match", ImageFilter{Match: func(id uint64) bool { return id%3 == 0 }}, func(i int) bool { return (i+1)%3 == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range vecs[n:] {
				hits, err := ns.SearchImages(q, 10, 64, &tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if len(hits) == 0 {
					t.Fatal("no hits")
				}
				for _, h := range hits {
					if !tc.ok(int(h.ImageID) - 1) {
						t.Fatalf("image %d fails the filter", h.ImageID)
					}
				}
			}
			if r := recallDB(t, ns, vecs[n:], &tc.f); r < 0.95 {
				t.Fatalf("filtered recall %.3f", r)
			}
		})
	}
}

func TestModelMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	db := openTest(t, path)
	nsTest(t, db)
	for _, tc := range []struct {
		name string
		m    ModelInfo
	}{
		{"dim", ModelInfo{Name: "tiny", Dim: 64, BundleHash: testModel.BundleHash}},
		{"bundle", ModelInfo{Name: "tiny", Dim: 32, BundleHash: "ffff000011112222"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Namespace(tc.m, NamespaceOptions{})
			if !errors.Is(err, ErrModelMismatch) {
				t.Fatalf("got %v", err)
			}
			t.Log(err)
			ns, err := db.Namespace(tc.m, NamespaceOptions{NewOnMismatch: true})
			if err != nil || ns.Name() != "tiny@"+tc.m.BundleHash[:12] {
				t.Fatalf("new namespace: %v %v", ns, err)
			}
		})
	}
	if _, err := db.Namespace(ModelInfo{Name: "other", Dim: 8}, NamespaceOptions{NoCreate: true}); !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("NoCreate: %v", err)
	}
	// persisted: a reopened file refuses too
	_ = db.Close()
	db = openTest(t, path)
	if _, err := db.Namespace(ModelInfo{Name: "tiny", Dim: 16}, NamespaceOptions{}); !errors.Is(err, ErrModelMismatch) {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db := openTest(t, good)
	ns := nsTest(t, db)
	addN(t, ns, clustered(600, 32, 4, 6), 0, 600, 300)
	_ = db.Close()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 64<<10)
	cc := rand.NewChaCha8([32]byte{1})
	_, _ = cc.Read(garbage)
	for _, tc := range []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"garbage", garbage, ErrCorrupt},
		{"text file", []byte("hello, not a database\n"), ErrCorrupt},
		{"truncated", data[:len(data)/2], ErrCorrupt},
		{"truncated to meta", data[:16384], ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".db")
			if err := os.WriteFile(p, tc.bytes, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := Open(p, Options{})
			if err == nil {
				_, err = db.Namespace(testModel, NamespaceOptions{NoCreate: true})
				_ = db.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestSchemaVersion(t *testing.T) {
	// a bbolt file from a future schema version and a foreign bbolt file
	dir := t.TempDir()
	p := filepath.Join(dir, "v9.db")
	db := openTest(t, p)
	_ = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{9, 0, 0, 0})
	})
	_ = db.Close()
	if _, err := Open(p, Options{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("future schema: %v", err)
	} else {
		t.Log(err)
	}
}

func TestConcurrentSearchAndWrites(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	n := 1200
	vecs := clustered(2*n, 32, 8, 7)
	addN(t, ns, vecs, 0, n, 400)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 3 {
		wg.Go(func() {
			f := &ImageFilter{PathPrefix: fmt.Sprintf("/lib/f%d/", g)}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := ns.SearchImages(vecs[(i*7+g)%len(vecs)], 5, 32, f); err != nil {
					t.Error(err)
					return
				}
				if _, err := db.Image(uint64(i%n + 1)); err != nil && !errors.Is(err, ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	for b := n; b < 2*n; b += 100 {
		addN(t, ns, vecs, b, b+100, 100)
		if err := db.DeleteImage(uint64(b - n + 1)); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestCloseTwice(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	for i := range 2 {
		if err := db.Close(); err != nil {
			t.Fatalf("Close %d: %v", i+1, err)
		}
	}
}

// TestSyncByDefault: commits are fsynced unless Options.NoSync says otherwise (nearly every
// other test sets it for speed, so this is the one that notices if syncing is turned off). A
// kill -9 cannot show a missing fsync, as the page cache outlives the process; a power cut
// would, so the setting itself is checked.
func TestSyncByDefault(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		db, err := Open(filepath.Join(t.TempDir(), "g.db"), Options{NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		if db.bolt.NoSync != noSync {
			t.Errorf("Options.NoSync %v: bbolt NoSync %v", noSync, db.bolt.NoSync)
		}
		db.Close()
	}
}
