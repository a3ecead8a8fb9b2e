package encoder

import (
	"context"
	"testing"

	"github.com/glimpse-search/glimpse/models"
)

func TestGoldenDefaultBundle(t *testing.T) {
	m := testModel(t)
	rep, err := Verify(context.Background(), m, models.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		t.Logf("%-70s maxabs %.3g mean %.3g cos %.6f %s %s ok=%v", c.Name, c.MaxAbs, c.Mean, c.Cosine, c.Limit, c.Detail, c.OK)
		if !c.OK {
			t.Errorf("%s: max abs %g, cosine %g, limit %s", c.Name, c.MaxAbs, c.Cosine, c.Limit)
		}
	}
}
