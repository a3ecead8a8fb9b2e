package searcher

import (
	"context"
	"testing"
)

// A dual encoder (CLIP: no ITM graph) ranks by ITC alone and says so in the page's note, wherever
// a rerank would have run; asking for no rerank, or an image->image query, needs no note.
func TestDualEncoder(t *testing.T) {
	f := newFixture(t, true)
	dual := *testModel(t) // shares the sessions, which testModel owns
	dual.ITM = nil
	s, err := New(f.db, &dual, testInfo(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Source() != nil {
		t.Fatalf("a dual encoder has a token source %T", s.Source())
	}
	ctx := context.Background()
	text := f.captions[3][0]
	images := func(p Params) (Page, []float64, bool) {
		res, err := s.Images(ctx, ImageQuery{Text: text, Params: p})
		if err != nil {
			t.Fatal(err)
		}
		checkSorted(t, res.Hits)
		var itc []float64
		probs := false
		for _, h := range res.Hits {
			itc = append(itc, h.ITC)
			probs = probs || h.PMatch != nil || h.Score != h.ITC
		}
		return res.Page, itc, probs
	}
	captions := func(p Params) (Page, []float64, bool) {
		res, err := s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: f.images[3]}, Params: p})
		if err != nil {
			t.Fatal(err)
		}
		var itc []float64
		probs := false
		for _, h := range res.Hits {
			itc = append(itc, h.ITC)
			probs = probs || h.PMatch != nil || h.Score != h.ITC
		}
		return res.Page, itc, probs
	}
	similar := func(p Params) (Page, []float64, bool) {
		res, err := s.Similar(ctx, SimilarQuery{ImageInput: ImageInput{ImageID: f.images[3]}, Params: p})
		if err != nil {
			t.Fatal(err)
		}
		return res.Page, nil, false
	}
	cases := []struct {
		name     string
		run      func(Params) (Page, []float64, bool)
		p        Params
		wantNote string
	}{
		{"text->image", images, Params{K: 16, Limit: 10, MinScore: Float(0.9)}, NoteNoITM},
		{"text->image, no rerank asked", images, Params{NoRerank: true, Limit: 10}, ""},
		{"image->text", captions, Params{K: 16, Limit: 10}, NoteNoITM},
		{"image->image", similar, Params{Limit: 10}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pg, itc, probs := tc.run(tc.p)
			if pg.Note != tc.wantNote {
				t.Errorf("note %q, want %q", pg.Note, tc.wantNote)
			}
			if pg.Reranked != 0 || pg.MinScore != nil || pg.Rank != "" || probs {
				t.Errorf("reranked %d, min score %v, rank %q, probabilities %v: want none", pg.Reranked, pg.MinScore,
					pg.Rank, probs)
			}
			if tc.wantNote != "" && len(itc) == 0 {
				t.Errorf("no hits (reason %q): a threshold must not apply without an ITM head", pg.Reason)
			}
		})
	}
}
