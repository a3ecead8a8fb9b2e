package searcher

import (
	"context"
	"errors"
	"math"
	"testing"
)

// TestScore checks that Score agrees with Explain's match probability for the same pair, by
// pixels and by id, and that its two probabilities sum to 1.
func TestScore(t *testing.T) {
	f := newFixture(t, false)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   ImageInput
	}{
		{"by file", ImageInput{Image: f.sceneImage(t, s, 3)}},
		{"by id", ImageInput{ImageID: f.images[3]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := f.captions[3][0]
			got, err := s.Score(ctx, ScoreQuery{ImageInput: tc.in, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			e, err := s.Explain(ctx, ExplainQuery{ImageInput: tc.in, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(float64(got[1]) - e.PMatch); d > 1e-4 {
				t.Errorf("p_match %v, explain %v (diff %g > 1e-4)", got[1], e.PMatch, d)
			}
			if d := math.Abs(float64(got[0]+got[1]) - 1); d > 1e-5 {
				t.Errorf("scores %v do not sum to 1", got)
			}
		})
	}
	for _, tc := range []struct {
		name string
		q    ScoreQuery
	}{
		{"blank text", ScoreQuery{ImageInput: ImageInput{ImageID: f.images[0]}, Text: " "}},
		{"no image", ScoreQuery{Text: "a red circle"}},
	} {
		if _, err := s.Score(ctx, tc.q); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v, want ErrInput", tc.name, err)
		}
	}
}
