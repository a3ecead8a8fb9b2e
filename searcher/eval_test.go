package searcher

import (
	"context"
	"errors"
	"testing"
)

func TestCount(t *testing.T) {
	tests := []struct {
		name    string
		rank, n int
		want    [3]int
	}{
		{"first", 0, 10, [3]int{1, 1, 1}},
		{"fifth", 4, 10, [3]int{0, 1, 1}},
		{"sixth", 5, 10, [3]int{0, 0, 1}},
		{"tenth", 9, 10, [3]int{0, 0, 1}},
		{"not found", 10, 10, [3]int{}},
		{"not found in a short list", 3, 3, [3]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got [3]int
			count(&got, tc.rank, tc.n)
			if got != tc.want {
				t.Fatalf("count(%d, %d) = %v, want %v", tc.rank, tc.n, got, tc.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	f := newFixture(t, true)
	s := f.searcher(t, Options{})
	set := EvalSet{Images: f.images, TextIDs: f.texts}
	for i, caps := range f.captions {
		for _, c := range caps {
			set.Captions = append(set.Captions, c)
			set.ImageOf = append(set.ImageOf, i)
		}
	}
	ctx := context.Background()
	calls := 0
	itc, err := s.Evaluate(ctx, set, EvalOptions{NoRerank: true, Progress: func(done, total int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(set.Images)+len(set.Captions) {
		t.Fatalf("progress called %d times", calls)
	}
	re, err := s.Evaluate(ctx, set, EvalOptions{K: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Recalls{itc.Recalls, re.Recalls} {
		// the committed tiny-scenes bundle finds every image and caption of the fixture first
		// (measured 2026-12-07); one miss is tolerated for float differences between CPUs
		v := []float64{r.TR1, r.TR5, r.TR10, r.IR1, r.IR5, r.IR10, r.RMean}
		slack := 100 / float64(min(len(set.Images), len(set.Captions)))
		for _, x := range v {
			if x < 100-slack-1e-9 || x > 100 {
				t.Fatalf("recalls %+v, want the committed bundle's 100 (within %.3g points)", r, slack)
			}
		}
		if r.TR1 > r.TR5 || r.TR5 > r.TR10 || r.IR1 > r.IR5 || r.IR5 > r.IR10 {
			t.Fatalf("recalls not monotone: %+v", r)
		}
	}
	// reranking only the top 4 leaves R@5 and R@10 to the ITC order: the same sets of hits
	if re.TR10 != itc.TR10 || re.IR10 != itc.IR10 || re.IR5 != itc.IR5 {
		t.Fatalf("k 4: R@5/R@10 changed: itc %+v, rerank %+v", itc.Recalls, re.Recalls)
	}
	if _, err := s.Evaluate(ctx, EvalSet{Images: f.images, Captions: []string{"x"}}, EvalOptions{}); !errors.Is(err, ErrInput) {
		t.Fatalf("malformed set: %v", err)
	}
}
