package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
)

func TestVerifyModel(t *testing.T) {
	tampered := copyBundle(t)
	rewrite(t, tampered, "golden.json", func(g map[string]any) {
		pair := g["pairs"].([]any)[0].(map[string]any)
		logits := pair["itm_logits"].([]any)
		logits[1] = logits[1].(float64) + 0.5 // past itm_logit_abs
		img := g["images"].([]any)[0].(map[string]any)
		emb := img["image_embeds"].([]any)
		for i := range emb {
			emb[i] = -emb[i].(float64) // cosine -1
		}
	})
	dual := dualBundle(t)

	cases := []struct {
		name     string
		args     []string
		wantErr  error // nil: success
		wantOut  []string
		wantText string // in the error
	}{
		{"embedded default", nil, nil, []string{"tiny-scenes", "image_embeds", "input_ids", "itm_logits",
			"golden/scene_2.jpg pixels", "checks passed"}, ""},
		{"bundle directory", []string{copyBundle(t)}, nil, []string{"checks passed"}, ""},
		{"dual encoder (no itm)", []string{dual}, nil, []string{"ITM: false", "checks passed"}, ""},
		{"json", []string{"--json"}, nil, []string{`"model": "tiny-scenes"`, `"min_cosine": 0.99`, `"ok": true`}, ""},
		{"json, outside tolerance", []string{"--json", tampered}, cli.ErrVerifyFailed, []string{`"ok": false`}, "2 of"},
		{"outside tolerance", []string{tampered}, cli.ErrVerifyFailed, []string{"FAIL", "itm_logits"}, "2 of"},
		{"missing directory", []string{filepath.Join(t.TempDir(), "nope")}, os.ErrNotExist, nil, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), append([]string{"verify-model"}, tc.args...), &out, &errOut)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("verify-model: %v\n%s", err, out.String())
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("verify-model = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output does not contain %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestVerifyModelJSON(t *testing.T) {
	dual := dualBundle(t)
	cases := []struct {
		name    string
		args    []string
		wantITM bool
	}{
		{"fused model", nil, true},
		{"dual encoder", []string{dual}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := Run(t.Context(), append([]string{"verify-model", "--json"}, tc.args...), &out, &errOut); err != nil {
				t.Fatalf("verify-model --json: %v\n%s", err, errOut.String())
			}
			var rep cli.VerifyReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
			}
			if !rep.OK || !rep.IDsExact || rep.ITM != tc.wantITM || len(rep.Checks) == 0 {
				t.Errorf("report ok %v, ids exact %v, itm %v, %d checks", rep.OK, rep.IDsExact, rep.ITM, len(rep.Checks))
			}
			if rep.MinCosine == nil || *rep.MinCosine < 0.999 || rep.MaxPixelAbs == nil || *rep.MaxPixelAbs > 0.02 {
				t.Errorf("min cosine %v, max pixel abs %v", rep.MinCosine, rep.MaxPixelAbs)
			}
			if (rep.MaxITMAbs != nil) != tc.wantITM || (rep.MaxPMatchAbs != nil) != tc.wantITM {
				t.Errorf("max itm logit abs %v, max p_match abs %v with itm %v", rep.MaxITMAbs, rep.MaxPMatchAbs, tc.wantITM)
			}
		})
	}
}

// goldenOutside writes the default bundle's golden file and images into a folder of their own,
// the golden edited by edit, and returns the golden file's path.
func goldenOutside(t *testing.T, edit func(g map[string]any)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "upstream")
	bundle := copyBundle(t)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(bundle, "golden"))); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(bundle, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	for _, img := range g["images"].([]any) { // "golden/scene_0.png" -> "scene_0.png"
		img := img.(map[string]any)
		img["file"] = filepath.Base(img["file"].(string))
	}
	edit(g)
	out, _ := json.Marshal(g)
	p := filepath.Join(dir, "upstream.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// --golden verifies the model against a golden file from elsewhere (no sha256 to match).
func TestVerifyModelGoldenFile(t *testing.T) {
	same := goldenOutside(t, func(map[string]any) {})
	pmatch := goldenOutside(t, func(g map[string]any) {
		p := g["pairs"].([]any)[3].(map[string]any)
		p["p_match"] = p["p_match"].(float64) + 0.01
	})
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"images": [{"file": "../x.png"}], "texts": [{"text": "a"}]}`), 0o644)
	cases := []struct {
		name    string
		golden  string
		wantErr error // nil: success
		wantOK  bool
		text    string // in the error
	}{
		{"the bundle's outputs", same, nil, true, ""},
		{"p_match off by 0.01", pmatch, cli.ErrVerifyFailed, false, "1 of"},
		{"missing file", filepath.Join(t.TempDir(), "none.json"), os.ErrNotExist, false, "none.json"},
		{"path outside its folder", bad, nil, false, "../x.png"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), []string{"verify-model", "--json", "--golden", tc.golden}, &out, &errOut)
			switch {
			case tc.text != "" && (err == nil || !strings.Contains(err.Error(), tc.text)):
				t.Fatalf("verify-model = %v, want an error containing %q", err, tc.text)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("verify-model = %v, want %v", err, tc.wantErr)
			case tc.text == "" && err != nil:
				t.Fatalf("verify-model: %v", err)
			}
			if out.Len() == 0 {
				return
			}
			var rep cli.VerifyReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
			}
			if rep.OK != tc.wantOK || rep.Golden != tc.golden || rep.MaxPMatchAbs == nil || rep.MaxPixelAbs == nil {
				t.Fatalf("ok %v (want %v), golden %q, max p_match abs %v, max pixel abs %v", rep.OK, tc.wantOK,
					rep.Golden, rep.MaxPMatchAbs, rep.MaxPixelAbs)
			}
			if !tc.wantOK && *rep.MaxPMatchAbs < 0.01-0.002 {
				t.Errorf("max p_match abs %v, want about 0.01", *rep.MaxPMatchAbs)
			}
		})
	}
}

// dualBundle is a copy of the default bundle without its ITM graph: a dual encoder.
func dualBundle(t *testing.T) string {
	t.Helper()
	dual := copyBundle(t)
	rewrite(t, dual, "model.json", func(m map[string]any) {
		delete(m["graphs"].(map[string]any), "itm")
		delete(m["files"].(map[string]any), "itm.onnx")
	})
	os.Remove(filepath.Join(dual, "itm.onnx"))
	return dual
}
