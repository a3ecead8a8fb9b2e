package store

import (
	"errors"
	"testing"
	"time"
)

func FuzzDecodeImage(f *testing.F) {
	for i := range 4 {
		r := newImage(i, nil).Record
		r.Added = time.Unix(1700000000, int64(i)).UTC()
		r.ContentID = uint64(i * 1000)
		f.Add(encodeImage(&r))
	}
	f.Add(encodeImage(&ImageRecord{}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeImage(7, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		// a decodable record re-encodes to something that decodes the same
		r2, err := decodeImage(7, encodeImage(&r))
		if err != nil || r2 != r {
			t.Fatalf("round trip: %+v vs %+v (%v)", r, r2, err)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	f.Add(encodeText(&TextRecord{Text: "a red cube left of a blue ball", Source: "caption"}))
	f.Add(encodeText(&TextRecord{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeText(1, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if r2, err := decodeText(1, encodeText(&r)); err != nil || r2 != r {
			t.Fatalf("round trip: %+v vs %+v (%v)", r, r2, err)
		}
	})
}

func FuzzGraphState(f *testing.F) {
	f.Add(graphState{slots: 100, entry: 3, maxLevel: 2, m: 16, chunk: 63}.encode())
	f.Add(graphState{maxLevel: -1, m: 16, chunk: 255}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGraphState(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if g2, err := decodeGraphState(g.encode()); err != nil || g2 != g {
			t.Fatalf("round trip %+v %+v %v", g, g2, err)
		}
	})
}
