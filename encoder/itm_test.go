package encoder

import (
	"image"
	"io/fs"
	"math"
	"testing"

	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/photo"
)

func TestSoftmax2(t *testing.T) {
	cases := []struct {
		logits [2]float32
		want   float64 // p_match
	}{
		{[2]float32{0, 0}, 0.5},
		{[2]float32{0, 2}, 1 / (1 + math.Exp(-2))}, // the match logit is index 1
		{[2]float32{3, -1}, 1 / (1 + math.Exp(4))},
		{[2]float32{-1000, 1000}, 1}, // no overflow
	}
	for _, tc := range cases {
		p := Softmax2(tc.logits)
		if math.Abs(float64(p[1])-tc.want) > 1e-6 || math.Abs(float64(p[0]+p[1])-1) > 1e-6 ||
			PMatch(tc.logits) != p[1] {
			t.Errorf("Softmax2(%v) = %v, PMatch %v; want p_match %v", tc.logits, p, PMatch(tc.logits), tc.want)
		}
	}
}

// The probability the ITM head's logits give means "matches" on the default model: a golden
// image's own caption scores above captions of it that are false (a swapped p_match and
// p_no_match, or a swapped logit index, fails here). Golden texts 0 to 5 are captions of the
// golden scenes and their negatives; the figures are the golden file's p_match.
func TestITMTrueCaptionScoresHigher(t *testing.T) {
	m := testModel(t)
	data, err := fs.ReadFile(models.Default(), "golden.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGolden(data)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name            string
		image, own, neg int
	}{
		{"scene 0, yellow and purple swapped", 0, 0, 3},      // 0.620 vs 0.514
		{"scene 0, a relation reversed", 0, 0, 1},            // 0.620 vs 0.004
		{"scene 0, another scene's caption", 0, 0, 5},        // 0.620 vs 0.000
		{"scene 2 (JPEG), another scene's caption", 2, 2, 5}, // 0.556 vs 0.000
	}
	imgs := make([]image.Image, len(g.Images))
	for i, gi := range g.Images {
		b, err := fs.ReadFile(models.Default(), gi.File)
		if err != nil {
			t.Fatal(err)
		}
		if imgs[i], err = photo.Decode(b, ImageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	vis, err := m.Vision.Encode(t.Context(), imgs, VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			txt, err := m.Text.Encode(t.Context(), []string{g.Texts[tc.own].Text, g.Texts[tc.neg].Text}, TextOptions{States: true})
			if err != nil {
				t.Fatal(err)
			}
			var pairs []Pair
			for j := range 2 {
				pairs = append(pairs, Pair{ImageTokens: vis.Tokens[tc.image], TextStates: txt.States[j], Mask: txt.Masks[j]})
			}
			out, err := m.ITM.Score(t.Context(), pairs, ITMOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pt, pf := PMatch(out.Logits[0]), PMatch(out.Logits[1])
			if !(pt > 0.5 && pt > pf) {
				t.Errorf("p_match of the true caption %.3f, of the false one %.3f: want the true one above 0.5 and the false one",
					pt, pf)
			}
			if out.Logits[0][1] <= out.Logits[1][1] {
				t.Errorf("match logit of the true caption %.3f, of the false one %.3f", out.Logits[0][1], out.Logits[1][1])
			}
		})
	}
}
