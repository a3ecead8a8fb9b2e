package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/models"
)

// goldenImage writes one of the bundle's golden images to a temporary file.
func goldenImage(tb testing.TB) string {
	tb.Helper()
	data, err := fs.ReadFile(models.Default(), "golden/scene_0.png")
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "scene.png")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func runScoreJSON(tb testing.TB, args ...string) [2]float32 {
	tb.Helper()
	var out, errOut bytes.Buffer
	if err := Run(tb.Context(), append([]string{"score", "--json"}, args...), &out, &errOut); err != nil {
		tb.Fatalf("score %q: %v (stderr %s)", args, err, errOut.String())
	}
	var res struct {
		Scores []float32 `json:"scores"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Scores) != 2 {
		tb.Fatalf("score --json printed %q: %v", out.String(), err)
	}
	return [2]float32{res.Scores[0], res.Scores[1]}
}

func TestScoreOutput(t *testing.T) {
	img := goldenImage(t)
	s := runScoreJSON(t, "--image", img, "--text", "a small purple triangle above a small blue triangle")
	if d := s[0] + s[1] - 1; d > 1e-5 || d < -1e-5 || s[0] < 0 || s[1] < 0 {
		t.Errorf("scores %v are not probabilities", s)
	}
	// Long text is truncated by the tokenizer, not refused.
	long := strings.Repeat("a small red circle ", 400) // 7,600 bytes, far past 40 tokens
	runScoreJSON(t, "--image", img, "--text", long)

	var out bytes.Buffer
	if err := Run(t.Context(), []string{"score", "--image", img, "--text", "a red circle"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "scores: [") || !strings.Contains(out.String(), "p_match") {
		t.Errorf("plain output %q", out.String())
	}
}

func TestScoreErrors(t *testing.T) {
	img := goldenImage(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.png")
	os.WriteFile(garbage, []byte("this is not an image"), 0o644)
	dual := dualBundle(t)

	cases := []struct {
		name      string
		args      []string
		wantUsage bool
		wantIs    error
		wantText  string
	}{
		{"no image", []string{"--text", "a red circle"}, true, nil, "--image"},
		{"no text", []string{"--image", img}, true, nil, "--text"},
		{"blank text", []string{"--image", img, "--text", " \t\n"}, true, nil, "blank"},
		{"oversized text", []string{"--image", img, "--text", strings.Repeat("x", 10_001)}, true, nil, "10000-byte"},
		{"stray argument", []string{"--image", img, "--text", "a", "red"}, true, nil, "quote"},
		{"unreadable image", []string{"--image", filepath.Join(dir, "missing.png"), "--text", "a red circle"}, false,
			os.ErrNotExist, "missing.png"},
		{"undecodable image", []string{"--image", garbage, "--text", "a red circle"}, false,
			encoder.ErrUnsupportedImage, "notes.png"},
		{"dual encoder bundle", []string{"--image", img, "--text", "a red circle", "--model", dual}, false,
			encoder.ErrNoITM, "dual encoder"},
		{"bad device", []string{"--image", img, "--text", "a red circle", "--device", "tpu"}, true, nil, "tpu"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), append([]string{"score"}, tc.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("score succeeded: %s", out.String())
			}
			var ue *cli.UsageError
			if errors.As(err, &ue) != tc.wantUsage {
				t.Errorf("usage error = %v, want %v: %v", !tc.wantUsage, tc.wantUsage, err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not mention %q", err, tc.wantText)
			}
		})
	}
}

// smokeEmbeddingDim is the embedding size of the random-weight placeholder bundle that stands
// in for the trained tiny-scenes model during development.
const smokeEmbeddingDim = 16

// TestScoreSceneThreshold renders generated scenes and checks the trained default model the way
// the ModelScope pipeline is used: a true caption scores p_match > 0.5, and each kind of wrong
// caption scores below 0.5: one object's colour replaced by a colour that is not in the scene,
// two objects' colours swapped (attribute binding) and a relation reversed. The model is not
// perfect (README: the ITM head rejects 79% of colour swaps and 92% of relation flips), so each
// kind must hold, together with the true caption, on a share of 24 scenes: a model that does
// not bind (the previous bundle rejected 7.7% of colour swaps) fails. The scores come from the
// code behind `searcher score`, with one model for all scenes; the command itself is run on the
// first scene and must print the same probabilities.
func TestScoreSceneThreshold(t *testing.T) {
	b, err := encoder.LoadBundle(models.Default())
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.EmbeddingDim == smokeEmbeddingDim { // a failure, not a skip: it would hide a broken model
		t.Fatalf("embedded bundle is the random-weight smoke placeholder (embedding_dim %d), not the trained "+
			"tiny-scenes model: its scores mean nothing; restore models/tiny-scenes or run `make model`", smokeEmbeddingDim)
	}
	mf := cli.ModelFlags{Device: encoder.DeviceCPU}
	m, _, err := mf.Open(encoder.ImageOptions{}, cli.WarnLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const seed, scenes = 20260, 24
	// the share of scenes on which the true caption is accepted and the edit rejected
	need := map[string]float64{scene.NegColour: 0.8, scene.NegSwapColour: 0.6, scene.NegRelation: 0.7}
	kinds := []string{scene.NegColour, scene.NegSwapColour, scene.NegRelation}
	dir := t.TempDir()
	good := map[string]int{}
	accepted, tried := 0, 0
	for idx := 0; tried < scenes && idx < 1000; idx++ {
		s := scene.NewScene(seed, idx)
		wrong := map[string]string{}
		for _, n := range scene.Negatives(s, 20, scene.NewRNG(seed, idx, 2)) {
			if _, ok := wrong[n.Kind]; !ok {
				wrong[n.Kind] = n.Raw
			}
		}
		if slices.ContainsFunc(kinds, func(k string) bool { return wrong[k] == "" }) {
			continue // a scene with every kind of wrong caption: two objects of different colours
		}
		caption := scene.Captions(s, scene.NewRNG(seed, idx, 1))[0]
		img, err := scene.Render(s, 256)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "scene.png")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := scene.Encode(f, img, "png"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		decoded, err := readImage(p, m.Preprocessor())
		if err != nil {
			t.Fatal(err)
		}
		score := func(text string) float32 {
			probs, err := scorePair(t.Context(), m, decoded, text)
			if err != nil {
				t.Fatal(err)
			}
			if tried == 0 { // the command prints what the code computes
				cli := runScoreJSON(t, "--image", p, "--text", text)
				if d := math.Abs(float64(cli[1] - probs[1])); d > 1e-5 {
					t.Errorf("searcher score printed p_match %v for %q, the library %v", cli[1], text, probs[1])
				}
			}
			return probs[1]
		}
		pos := score(caption)
		if pos > 0.5 {
			accepted++
		}
		t.Logf("scene %d: p_match %.3f for its caption %q", idx, pos, caption)
		for _, k := range kinds {
			neg := score(wrong[k])
			if pos > 0.5 && neg < 0.5 {
				good[k]++
			}
			t.Logf("  %.3f for a %s edit %q", neg, k, wrong[k])
		}
		tried++
	}
	if tried < scenes {
		t.Fatalf("only %d scenes with every kind of wrong caption", tried)
	}
	if accepted < scenes*80/100 {
		t.Errorf("true caption > 0.5 on %d of %d scenes, want at least 80%%", accepted, tried)
	}
	for _, k := range kinds {
		if float64(good[k]) < need[k]*float64(tried) {
			t.Errorf("caption > 0.5 and %s edit < 0.5 on %d of %d scenes, want at least %.0f%%", k, good[k], tried, 100*need[k])
		}
	}
	t.Logf("true caption accepted on %d of %d scenes; with the edit rejected: %v", accepted, tried, good)
}
