package searcher

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/rerank"
)

// handCands are three reranked candidates on which the four rank formulas, and ITC alone (the
// ANN order), give five different orders, and one candidate that was not reranked:
//
//	i  logits      p_match  itc  p+itc  l1+itc
//	0  (-1, 1.0)   0.881    0.4  1.281  1.4
//	1  ( 0, 1.4)   0.802    0.2  1.002  1.6
//	2  (-3, 1.2)   0.985    0.1  1.085  1.3
//	3  not reranked         0.05
func handCands() []cand {
	var cs []cand
	for i, c := range []struct {
		logits [2]float32
		itc    float32
	}{{[2]float32{-1, 1.0}, 0.4}, {[2]float32{0, 1.4}, 0.2}, {[2]float32{-3, 1.2}, 0.1}} {
		cs = append(cs, rerankedCand(cand{i: i, itc: c.itc},
			rerank.Score{Logits: c.logits, PMatch: encoder.PMatch(c.logits)}))
	}
	return append(cs, cand{i: 3, itc: 0.05})
}

// Each formula orders the hand-made candidates its own way, so a formula mapped to another one
// (or p_match and the logit taken from the wrong class) fails; the threshold applies to p_match
// whatever the formula.
func TestRankFormulas(t *testing.T) {
	tests := []struct {
		name  string
		p     params
		want  []int
		score []float64 // of the reranked ones, in want's order
	}{
		{"itm: p_match", params{rank: RankITM}, []int{2, 0, 1, 3}, []float64{0.985, 0.881, 0.802}},
		{"itm+itc: p_match + itc", params{rank: RankITMITC}, []int{0, 2, 1, 3}, []float64{1.281, 1.085, 1.002}},
		{"itm_logit: match logit", params{rank: RankITMLogit}, []int{1, 2, 0, 3}, []float64{1.4, 1.2, 1.0}},
		{"itm_logit+itc: match logit + itc", params{rank: RankITMLogitITC}, []int{1, 0, 2, 3}, []float64{1.6, 1.4, 1.3}},
		{"itm_logit, threshold 0.85 on p_match", params{rank: RankITMLogit, min: 0.85}, []int{2, 0}, []float64{1.2, 1.0}},
		{"itm_logit+itc, threshold 0.85 on p_match", params{rank: RankITMLogitITC, min: 0.85}, []int{0, 2}, []float64{1.4, 1.3}},
	}
	orders := map[string]Rank{"[0 1 2]": "itc alone (the ANN order)"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, best := tc.p.order(handCands())
			var got []int
			for j, c := range list {
				got = append(got, c.i)
				if j < len(tc.score) && math.Abs(tc.p.score(c)-tc.score[j]) > 1e-3 {
					t.Errorf("candidate %d: score %.4f, want %.4f", c.i, tc.p.score(c), tc.score[j])
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
			if math.Abs(best-0.985) > 1e-3 {
				t.Errorf("best p_match %.4f, want 0.985", best)
			}
			if tc.p.min == 0 {
				key := fmt.Sprint(got[:3])
				if r, dup := orders[key]; dup {
					t.Fatalf("ranks %s and %s give the same order %s", r, tc.p.rank, key)
				}
				orders[key] = tc.p.rank
			}
		})
	}
}

func TestParseRank(t *testing.T) {
	for _, s := range []string{"itm", "itm+itc", "itm_logit", "itm_logit+itc"} {
		if r, err := ParseRank(s); err != nil || string(r) != s {
			t.Errorf("ParseRank(%q) = %q, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "itc", "ITM", "itm_logits", "itm + itc", "logit", "bm25"} {
		_, err := ParseRank(s)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "itm_logit+itc") {
			t.Errorf("ParseRank(%q): error %v, want ErrInput naming the formulas", s, err)
		}
	}
}

// An unknown rank is refused as a searcher default and as a query parameter; a bundle's own
// formula is the default.
func TestRankValidation(t *testing.T) {
	f := newFixture(t, false)
	if _, err := New(f.db, testModel(t), testInfo(t), Options{Rank: "itm_logits"}); !errors.Is(err, ErrInput) {
		t.Errorf("New with rank itm_logits: %v, want ErrInput", err)
	}
	s := f.searcher(t, Options{})
	if want := Rank(testModel(t).Manifest.Scores.Rank); s.o.Rank != want {
		t.Errorf("default rank %q, want the bundle's %q", s.o.Rank, want)
	}
	_, err := s.Images(context.Background(), ImageQuery{Text: f.captions[0][0], Params: Params{Rank: "itc"}})
	if !errors.Is(err, ErrInput) {
		t.Errorf("query with rank itc: %v, want ErrInput", err)
	}
}

// Through a real search, each formula's score is what it says, over the logit and probability
// the ITM head gave, and the threshold still applies to the probability.
func TestRankScores(t *testing.T) {
	f := newFixture(t, true)
	s := f.searcher(t, Options{})
	ctx := context.Background()
	for _, r := range []Rank{RankITM, RankITMITC, RankITMLogit, RankITMLogitITC} {
		t.Run(string(r), func(t *testing.T) {
			p := Params{K: 32, Limit: 1000, MinScore: Float(0.005), Rank: r}
			res, err := s.Images(ctx, ImageQuery{Text: f.captions[3][0], Params: p})
			if err != nil {
				t.Fatal(err)
			}
			checkSorted(t, res.Hits)
			caps, err := s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: f.images[3]}, Params: p})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 || len(caps.Hits) == 0 || res.Rank != r || caps.Rank != r {
				t.Fatalf("%d image hits, %d text hits, ranks %q %q", len(res.Hits), len(caps.Hits), res.Rank, caps.Rank)
			}
			type hit struct {
				score, itc float64
				p, logit   *float64
			}
			var hits []hit
			for _, h := range res.Hits {
				hits = append(hits, hit{h.Score, h.ITC, h.PMatch, h.ITMLogit})
			}
			for j, h := range caps.Hits {
				if j > 0 && h.Score > caps.Hits[j-1].Score {
					t.Fatalf("text hit %d score %v above the one before", j, h.Score)
				}
				hits = append(hits, hit{h.Score, h.ITC, h.PMatch, h.ITMLogit})
			}
			for _, h := range hits {
				if h.p == nil || h.logit == nil || *h.p < 0.005 {
					t.Fatalf("hit %+v: no p_match or logit, or p_match under the threshold", h)
				}
				want := map[Rank]float64{RankITM: *h.p, RankITMITC: *h.p + h.itc, RankITMLogit: *h.logit,
					RankITMLogitITC: *h.logit + h.itc}[r]
				if math.Abs(h.score-want) > 1e-6 {
					t.Fatalf("hit score %v, want %v (p_match %v, logit %v, itc %v)", h.score, want, *h.p, *h.logit, h.itc)
				}
			}
		})
	}
}
