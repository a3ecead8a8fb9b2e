package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func TestImagesByID(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	addN(t, ns, clustered(5, 32, 2, 3), 0, 5, 5) // ids 1..5
	if err := db.DeleteImage(3); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ids     []uint64
		missing []bool // per id; nil: none
	}{
		{"found", []uint64{5, 1, 2}, nil},
		{"repeated", []uint64{4, 4}, nil},
		{"missing", []uint64{99}, []bool{true}},
		{"deleted among found", []uint64{1, 3, 5, 0}, []bool{false, true, false, true}},
		{"empty", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, errs := db.ImagesByID(tc.ids)
			if len(recs) != len(tc.ids) || (errs != nil) != (tc.missing != nil) {
				t.Fatalf("%d records for %d ids, errs %v", len(recs), len(tc.ids), errs)
			}
			for i, id := range tc.ids {
				want, werr := db.Image(id)
				if tc.missing != nil && tc.missing[i] {
					if !errors.Is(errs[i], ErrNotFound) || !errors.Is(werr, ErrNotFound) || recs[i] != (ImageRecord{}) {
						t.Fatalf("id %d: record %+v, error %v; want ErrNotFound", id, recs[i], errs[i])
					}
					continue
				}
				if werr != nil || recs[i] != want || (errs != nil && errs[i] != nil) {
					t.Fatalf("id %d: got %+v (%v), want %+v (%v)", id, recs[i], errs, want, werr)
				}
			}
		})
	}
}

func TestTextsByID(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	ns := nsTest(t, db)
	ids, err := ns.AddTexts([]NewText{{Record: TextRecord{Text: "a red cube", Source: "caption"}},
		{Record: TextRecord{Text: "note"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ids     []uint64
		missing []bool
	}{
		{"found", []uint64{ids[1], ids[0]}, nil},
		{"missing", []uint64{ids[0], 99}, []bool{false, true}},
		{"empty", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, errs := db.TextsByID(tc.ids)
			if len(recs) != len(tc.ids) || (errs != nil) != (tc.missing != nil) {
				t.Fatalf("%d records for %d ids, errs %v", len(recs), len(tc.ids), errs)
			}
			for i, id := range tc.ids {
				if tc.missing != nil && tc.missing[i] {
					if !errors.Is(errs[i], ErrNotFound) || recs[i] != (TextRecord{}) {
						t.Fatalf("id %d: record %+v, error %v; want ErrNotFound", id, recs[i], errs[i])
					}
					continue
				}
				want, err := db.Text(id)
				if err != nil || recs[i] != want {
					t.Fatalf("id %d: got %+v, want %+v (%v)", id, recs[i], want, err)
				}
			}
		})
	}
}

func TestImagesByIDClosed(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	addN(t, nsTest(t, db), clustered(2, 32, 1, 5), 0, 2, 2)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	recs, errs := db.ImagesByID([]uint64{1, 2})
	if errs == nil || errs[0] == nil || errs[1] == nil || recs[0] != (ImageRecord{}) {
		t.Fatalf("closed DB: records %+v, errs %v", recs, errs)
	}
}

// BenchmarkImagesByID reads the records of 128 random candidates among 100,000 images: one read
// transaction per record (Image) against one for all (ImagesByID).
func BenchmarkImagesByID(b *testing.B) {
	const n, k = 100_000, 128
	db := openTest(b, filepath.Join(b.TempDir(), "g.db"))
	ns := nsTest(b, db)
	vec := clustered(1, 32, 1, 6)[0]
	for start := 0; start < n; start += 10_000 {
		batch := make([]NewImage, 0, 10_000)
		for i := start; i < start+10_000; i++ {
			im := newImage(i, nil)
			im.Record.SHA256 = [32]byte{1} // one content, so one vector for all
			if i == 0 {
				im.Vector = vec
			}
			batch = append(batch, im)
		}
		if _, err := ns.AddImages(batch); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]uint64, k)
	for i := range ids {
		ids[i] = uint64(1 + (i*7919)%n)
	}
	b.Run(fmt.Sprintf("Image/k=%d", k), func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if _, err := db.Image(id); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run(fmt.Sprintf("ImagesByID/k=%d", k), func(b *testing.B) {
		for b.Loop() {
			if _, errs := db.ImagesByID(ids); errs != nil {
				b.Fatal(errs)
			}
		}
	})
}
