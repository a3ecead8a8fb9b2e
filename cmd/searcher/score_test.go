package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/tools/scene"
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
	dual := copyBundle(t)
	rewrite(t, dual, "model.json", func(m map[string]any) {
		delete(m["graphs"].(map[string]any), "itm")
		delete(m["files"].(map[string]any), "itm.onnx")
	})
	os.Remove(filepath.Join(dual, "itm.onnx"))

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
			var ue *UsageError
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

// TestScoreSceneThreshold renders generated scenes and checks that the trained default model
// accepts a true caption (p_match > 0.5) and rejects a caption in which one object's colour is
// replaced by a colour that is not in the scene (p_match < 0.5), on at least 3 of 4 scenes.
//
// Known gap: the current tiny-scenes model does not bind attributes to objects. A caption whose
// two objects' colours are swapped (scene.NegSwapColour) still scores as a match (its ITM head
// rejects 7.7% of such negatives, see the README), so that case is not asserted here.
func TestScoreSceneThreshold(t *testing.T) {
	b, err := encoder.LoadBundle(models.Default())
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.EmbeddingDim == smokeEmbeddingDim {
		t.Skipf("embedded bundle is the random-weight smoke placeholder (embedding_dim %d), not the trained "+
			"tiny-scenes model: its scores mean nothing", smokeEmbeddingDim)
	}
	const seed, want = 20260, 4
	dir := t.TempDir()
	good := 0
	tried := 0
	for idx := 0; tried < want && idx < 200; idx++ {
		s := scene.NewScene(seed, idx)
		negs := scene.Negatives(s, 20, scene.NewRNG(seed, idx, 2))
		var wrong string
		for _, n := range negs {
			if n.Kind == scene.NegColour {
				wrong = n.Raw
				break
			}
		}
		if wrong == "" {
			continue
		}
		captions := scene.Captions(s, scene.NewRNG(seed, idx, 1))
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
		tried++
		pos := runScoreJSON(t, "--image", p, "--text", captions[0])[1]
		neg := runScoreJSON(t, "--image", p, "--text", wrong)[1]
		ok := pos > 0.5 && neg < 0.5
		if ok {
			good++
		}
		t.Logf("scene %d: p_match %.3f for %q, %.3f for a wrong colour %q (ok %v)", idx, pos, captions[0], neg, wrong, ok)
	}
	if tried < want {
		t.Fatalf("only %d scenes with a colour negative", tried)
	}
	if good < want-1 {
		t.Errorf("caption > 0.5 and wrong colour < 0.5 on %d of %d scenes, want at least %d", good, tried, want-1)
	}
}
