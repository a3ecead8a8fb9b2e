package library_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// bulkAdd writes n synthetic images with random unit vectors of dimension dim into the data
// dir's database the way Indexer.Add does, one transaction per indexer.DefaultBatch images.
func bulkAdd(tb testing.TB, dir string, n, dim int) {
	tb.Helper()
	lib, err := library.Open(dir, library.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer lib.Close()
	ns, err := lib.DB().Namespace(store.ModelInfo{Name: "synthetic", Dim: dim, BundleHash: "h"}, store.NamespaceOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for b := 0; b < n; b += indexer.DefaultBatch {
		var batch []store.NewImage
		for i := b; i < min(n, b+indexer.DefaultBatch); i++ {
			v := make([]float32, dim)
			var s float64
			for j := range v {
				v[j] = float32(rng.NormFloat64())
				s += float64(v[j] * v[j])
			}
			for j := range v {
				v[j] /= float32(math.Sqrt(s))
			}
			batch = append(batch, store.NewImage{Vector: v, Record: store.ImageRecord{
				Path:    fmt.Sprintf("/photos/%d/IMG_%05d.jpg", 2000+i%20, i),
				SHA256:  sha256.Sum256(fmt.Append(nil, i)),
				Size:    int64(2_000_000 + i),
				ModTime: time.Unix(1_600_000_000+int64(i), 0).UTC(),
				Width:   4000, Height: 3000,
			}})
		}
		if _, err := ns.AddImages(batch); err != nil {
			tb.Fatal(err)
		}
	}
	if err := lib.Close(); err != nil {
		tb.Fatal(err)
	}
}

// copyDB copies the database of data dir src into a new data dir.
func copyDB(tb testing.TB, src string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(src, library.DBFile))
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	writeFile(tb, filepath.Join(dir, library.DBFile), b)
	return dir
}

// TestCompact: after a bulk add in batches of indexer.DefaultBatch the file is several times its data;
// Compact brings it under MaxRatio (and under 1.3x the vectors and graph, the compaction target, at
// dimension 256), keeps every record, and leaves files under the threshold or 1 MiB alone.
func TestCompact(t *testing.T) {
	const n = 3000
	bulk := t.TempDir()
	bulkAdd(t, bulk, n, 256)
	small := t.TempDir()
	bulkAdd(t, small, 40, 256)

	cases := []struct {
		name          string
		dir           func(t *testing.T) string
		o             library.CompactOptions
		want          bool    // compacted
		maxRatio      float64 // the file after, against its data (0: no check)
		maxRatioVG    float64 // the file after, against its vectors, graph and log (0: no check)
		wantImages    int
		twice, locked bool // compact a second time / hold the lock meanwhile
	}{
		{name: "bulk add", dir: func(t *testing.T) string { return copyDB(t, bulk) },
			want: true, maxRatio: library.DefaultCompactRatio, maxRatioVG: 1.3, wantImages: n},
		{name: "compact file left alone", dir: func(t *testing.T) string { return copyDB(t, bulk) },
			want: true, twice: true, wantImages: n},
		{name: "threshold above the waste", dir: func(t *testing.T) string { return copyDB(t, bulk) },
			o: library.CompactOptions{MaxRatio: 100}, want: false, wantImages: n},
		{name: "small file left alone", dir: func(t *testing.T) string { return copyDB(t, small) },
			want: false, wantImages: 40},
		{name: "small file forced", dir: func(t *testing.T) string { return copyDB(t, small) },
			o: library.CompactOptions{MaxRatio: -1}, want: true, wantImages: 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			tc.o.NoSync = true
			c, err := library.Compact(dir, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if tc.twice {
				if c, err = library.Compact(dir, tc.o); err != nil {
					t.Fatal(err)
				}
				tc.want = false
			}
			if c.Compacted != tc.want {
				t.Fatalf("compacted %v, want %v: %+v", c.Compacted, tc.want, c)
			}
			st, err := os.Stat(filepath.Join(dir, library.DBFile))
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() != c.After || (!c.Compacted && c.After != c.Before.File) || (c.Compacted && c.After >= c.Before.File) {
				t.Fatalf("file %d bytes after %+v", st.Size(), c)
			}
			s := c.Before
			if r := float64(c.After) / float64(s.Live()); tc.maxRatio > 0 && r > tc.maxRatio {
				t.Errorf("file %.2fx its data, want at most %.2fx: %+v", r, tc.maxRatio, c)
			}
			if r := float64(c.After) / float64(s.Vectors+s.Graph+s.Log); tc.maxRatioVG > 0 && r > tc.maxRatioVG {
				t.Errorf("file %.2fx its vectors and graph, want at most %.2fx: %+v", r, tc.maxRatioVG, c)
			}
			t.Logf("%d -> %d bytes (%.2fx data, %.2fx vectors+graph): %+v", s.File, c.After,
				float64(c.After)/float64(s.Live()), float64(c.After)/float64(s.Vectors+s.Graph+s.Log), s)
			lib := testLib(t, dir)
			if got := lib.DB().ImageCount(); got != tc.wantImages {
				t.Fatalf("%d images after, want %d", got, tc.wantImages)
			}
			after, err := lib.DB().Space()
			if err != nil {
				t.Fatal(err)
			}
			if after.Live() != s.Live() {
				t.Fatalf("data changed: %+v, was %+v", after, s)
			}
		})
	}
}

// TestCompactErrors: Compact fails clearly without a database or while another holder has it.
func TestCompactErrors(t *testing.T) {
	if _, err := library.Compact(filepath.Join(t.TempDir(), "none"), library.CompactOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no database: %v", err)
	}
	dir := t.TempDir()
	testLib(t, dir) // holds the lock until cleanup
	if _, err := library.Compact(dir, library.CompactOptions{MaxRatio: -1, LockTimeout: 50 * time.Millisecond}); !errors.Is(err, library.ErrLocked) {
		t.Errorf("locked: %v", err)
	}
}
