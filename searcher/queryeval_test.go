package searcher

import (
	"errors"
	"math"
	"testing"
)

func TestAverageQueryOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name string
		outs []queryOutcome
		want QueryFigures
	}{
		{"one perfect", []queryOutcome{{recall: 1, precision: 1, f1: 1, itc: 1}},
			QueryFigures{Queries: 1, Recall: 1, Precision: 1, F1: 1, ITCRPrecision: 1}},
		{"an empty answer counts in recall and F1, not in precision",
			[]queryOutcome{{recall: 1, precision: 0.5, f1: 2.0 / 3, itc: 0.5}, {empty: true, itc: 1}},
			QueryFigures{Queries: 2, Recall: 0.5, Precision: 0.5, F1: 1.0 / 3, Empty: 1, ITCRPrecision: 0.75}},
		{"all empty", []queryOutcome{{empty: true}, {empty: true}}, QueryFigures{Queries: 2, Empty: 2}},
	} {
		got := average(tc.outs)
		if got.Queries != tc.want.Queries || got.Empty != tc.want.Empty || !near(got.Recall, tc.want.Recall) ||
			!near(got.Precision, tc.want.Precision) || !near(got.F1, tc.want.F1) || !near(got.ITCRPrecision, tc.want.ITCRPrecision) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestEvaluateQueries over the fixture: a query true of every image has a perfect ITC
// R-precision and no false positive; each scene's own caption, true of that image, is measured
// per kind; the figures are within [0, 1]; no queries is an input error.
func TestEvaluateQueries(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	qs := []LabeledQuery{{Kind: "every", Text: "a shape", Truth: f.images}}
	for i := range 6 {
		qs = append(qs, LabeledQuery{Kind: "caption", Text: f.captions[i][0], Truth: []uint64{f.images[i]}})
	}
	rep, err := s.EvaluateQueries(t.Context(), qs, QueryEvalOptions{MinScore: Float(0)})
	if err != nil {
		t.Fatal(err)
	}
	every := rep.Kinds["every"]
	if every.Queries != 1 || every.ITCRPrecision != 1 || every.Precision != 1 || every.Recall != 1 {
		t.Errorf("a query true of every image, threshold 0: %+v, want recall, precision and ITC R-precision 1", every)
	}
	if c := rep.Kinds["caption"]; c.Queries != 6 || rep.All.Queries != 7 {
		t.Errorf("kinds %+v, all %+v", rep.Kinds, rep.All)
	}
	for kind, fig := range rep.Kinds {
		for _, v := range []float64{fig.Recall, fig.Precision, fig.F1, fig.ITCRPrecision} {
			if v < 0 || v > 1 {
				t.Errorf("%s: %+v outside [0, 1]", kind, fig)
			}
		}
	}
	if rep.MaxK < DefaultK {
		t.Errorf("rerank depth %d, want at least %d", rep.MaxK, DefaultK)
	}
	if _, err := s.EvaluateQueries(t.Context(), nil, QueryEvalOptions{}); !errors.Is(err, ErrInput) {
		t.Errorf("no queries: %v", err)
	}
}
