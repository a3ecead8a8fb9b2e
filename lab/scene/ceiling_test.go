package scene

import (
	"math"
	"testing"
)

func TestMeasureCeiling(t *testing.T) {
	recs := func(seed uint64, n int) Dataset {
		var ds Dataset
		for i := range n {
			r, _ := Records(seed, i, false, 0, "test", "png")
			ds.Images = append(ds.Images, r...)
		}
		return ds
	}
	t.Run("every own caption holds", func(t *testing.T) {
		ds := recs(5, 300)
		c := MeasureCeiling(ds)
		if c.Captions != 300*NumCaptions {
			t.Fatalf("captions = %d, want %d", c.Captions, 300*NumCaptions)
		}
		// In a gallery of 300 scenes few captions are true of another image.
		if c.R1 < 90 || c.R1 > 100 {
			t.Errorf("ceiling R1 = %.1f, want 90..100", c.R1)
		}
		if c.ByObjects[3] != 100 {
			t.Errorf("three-object scenes: ceiling %.1f, want 100", c.ByObjects[3])
		}
	})
	t.Run("identical scenes halve it", func(t *testing.T) {
		ds := recs(5, 1)
		ds.Images = append(ds.Images, ds.Images[0])
		c := MeasureCeiling(ds)
		if math.Abs(c.R1-50) > 1e-9 || c.Ambiguous != 2*NumCaptions {
			t.Errorf("got R1 %.2f ambiguous %d, want 50 and %d", c.R1, c.Ambiguous, 2*NumCaptions)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if c := MeasureCeiling(Dataset{}); c.R1 != 0 || c.Captions != 0 {
			t.Errorf("empty dataset: %+v", c)
		}
	})
}
