package encoder

import (
	"context"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
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

// defaultGolden is the default bundle's golden file, parsed afresh (the caller may edit it).
func defaultGolden(t *testing.T) *Golden {
	t.Helper()
	data, err := fs.ReadFile(models.Default(), "golden.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGolden(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// rotate returns v turned by the angle whose cosine is cos, towards a direction orthogonal to
// it, with v's norm.
func rotate(v []float64, cos float64) []float64 {
	u := make([]float64, len(v))
	u[0], u[1] = -v[1], v[0] // orthogonal to v
	var nv, nu float64
	for i := range v {
		nv += v[i] * v[i]
		nu += u[i] * u[i]
	}
	sin, scale := math.Sqrt(1-cos*cos), math.Sqrt(nv/nu)
	out := make([]float64, len(v))
	for i := range v {
		out[i] = cos*v[i] + sin*scale*u[i]
	}
	return out
}

// Each figure of the golden file, moved past its tolerance, fails its own check and no other.
func TestVerifyGoldenFails(t *testing.T) {
	m := testModel(t)
	tol := m.Manifest.Tolerance
	cases := []struct {
		name string
		edit func(g *Golden)
		fail string // the one failing check's name contains this
	}{
		{"unchanged", func(*Golden) {}, ""},
		{"image embedding at cosine 0.9995", func(g *Golden) {
			g.Images[0].ImageEmbeds = rotate(g.Images[0].ImageEmbeds, 0.9995)
		}, "scene_0.png image_embeds"},
		{"text embedding at cosine 0.9995", func(g *Golden) {
			g.Texts[2].TextEmbeds = rotate(g.Texts[2].TextEmbeds, 0.9995)
		}, "text 2 "},
		{"match logit off by twice the tolerance", func(g *Golden) { g.Pairs[0].ITMLogits[1] += 2 * tol.ITMLogitAbs }, "itm_logits"},
		{"p_match off by twice the tolerance", func(g *Golden) { g.Pairs[0].PMatch += 2 * tol.PMatchAbs }, "p_match"},
		{"p_match of the other class", func(g *Golden) {
			for i := range g.Pairs {
				g.Pairs[i].PMatch = 1 - g.Pairs[i].PMatch
			}
		}, "p_match"},
		{"lossless pixel slice off by twice the tolerance", func(g *Golden) {
			g.Images[1].Pixels.Slice.Values[7] += 2 * tol.PixelAbs
		}, "scene_1.png pixels"},
		{"JPEG pixel mean off by one 8-bit level", func(g *Golden) {
			g.Images[2].Pixels.Mean += 1.5 / 255 / 0.27
		}, "scene_2.jpg pixels"},
		{"token ids", func(g *Golden) { g.Texts[1].InputIDs[1]++ }, "text 1 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := defaultGolden(t)
			tc.edit(g)
			rep, err := VerifyGolden(t.Context(), m, g, models.Default())
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range rep.Checks {
				if !c.OK {
					failed = append(failed, c.Name)
				}
			}
			switch {
			case tc.fail == "" && len(failed) > 0:
				t.Fatalf("failed checks %q on the unchanged golden", failed)
			case tc.fail != "" && (len(failed) != 1 || !strings.Contains(failed[0], tc.fail)):
				t.Fatalf("failed checks %q, want the one of %q", failed, tc.fail)
			}
		})
	}
}

// A manifest mean off by one 8-bit level moves every preprocessed pixel of a channel by 0.015:
// the lossless goldens' pixel checks must fail (the JPEG's fails too: its decoder difference of
// one level in some pixels adds to the shift). A JPEG golden is held to pixel_abs_jpeg, which a
// one-level decoder difference passes, and not to pixel_abs.
func TestVerifyPixelTolerance(t *testing.T) {
	testModel(t)
	cases := []struct {
		name string
		edit func(m map[string]any)
		fail []string // the failing pixel checks
	}{
		{"mean off by one 8-bit level", func(m map[string]any) {
			mean := obj(m, "image")["mean"].([]any)
			mean[0] = mean[0].(float64) + 1.0/255
			delete(obj(m, "tolerance"), "pixel_abs_jpeg") // the default; the bundle's own is looser
		}, []string{"image golden/scene_0.png pixels", "image golden/scene_1.png pixels", "image golden/scene_2.jpg pixels"}},
		{"JPEG held to the lossless tolerance", func(m map[string]any) {
			// libjpeg-turbo decodes the JPEG golden as Pillow did: it passes the lossless bound too
			obj(m, "tolerance")["pixel_abs_jpeg"] = obj(m, "tolerance")["pixel_abs"]
		}, nil},
		{"lossless tolerance loosened to the JPEG one", func(m map[string]any) {
			obj(m, "tolerance")["pixel_abs"] = obj(m, "tolerance")["pixel_abs_jpeg"]
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyBundle(t)
			editManifest(t, dir, tc.edit)
			m, err := Open(os.DirFS(dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			rep, err := Verify(t.Context(), m, os.DirFS(dir))
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range rep.Checks {
				if !c.OK && strings.HasSuffix(c.Name, " pixels") {
					failed = append(failed, c.Name)
				}
			}
			if !slices.Equal(failed, tc.fail) {
				t.Fatalf("failed pixel checks %q, want %q", failed, tc.fail)
			}
		})
	}
}

func TestParseGoldenErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"not JSON", `{"images": [`, "unexpected"},
		{"no texts", `{"images": [{"file": "a.png"}]}`, "no images or no texts"},
		{"path leaves the folder", `{"images": [{"file": "../a.png"}], "texts": [{"text": "a"}]}`, "../a.png"},
		{"pair names a missing text", `{"images": [{"file": "a.png"}], "texts": [{"text": "a"}],
			"pairs": [{"image": 0, "text": 1, "itm_logits": [0, 1]}]}`, "pair 0"},
		{"pair with one logit", `{"images": [{"file": "a.png"}], "texts": [{"text": "a"}],
			"pairs": [{"image": 0, "text": 0, "itm_logits": [1]}]}`, "pair 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGolden([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestMakeGolden: a golden file made from the default model's own outputs passes verify-model,
// and agrees with the bundle's golden file (made by PyTorch) within its tolerances.
func TestMakeGolden(t *testing.T) {
	m := testModel(t)
	fsys := models.Default()
	shipped, err := LoadGolden(fsys, m.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	var files, texts []string
	for _, gi := range shipped.Images {
		files = append(files, gi.File)
	}
	for _, gt := range shipped.Texts {
		texts = append(texts, gt.Text)
	}
	made, err := MakeGolden(context.Background(), m, fsys, files, texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(made.Images) != len(files) || len(made.Texts) != len(texts) || len(made.Pairs) != len(files)*len(texts) {
		t.Fatalf("made %d images, %d texts, %d pairs", len(made.Images), len(made.Texts), len(made.Pairs))
	}
	for _, g := range []*Golden{made, shipped} {
		rep, err := VerifyGolden(context.Background(), m, g, fsys)
		if err != nil || !rep.OK() {
			t.Errorf("verify against a golden file: %v %+v", err, rep)
		}
	}
	// the made file against the shipped one: the same inputs, the same outputs to the tolerance
	for i := range made.Pairs {
		if d := math.Abs(made.Pairs[i].PMatch - shipped.Pairs[i].PMatch); d > m.Manifest.Tolerance.PMatchAbs {
			t.Errorf("pair %d: p_match %g here, %g in the bundle", i, made.Pairs[i].PMatch, shipped.Pairs[i].PMatch)
		}
	}
}
