package encoder

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/models"
)

// copyBundle writes the embedded default bundle into a temporary directory.
func copyBundle(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	err := fs.WalkDir(models.Default(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(models.Default(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// editManifest rewrites model.json in dir through a generic map.
func editManifest(tb testing.TB, dir string, edit func(m map[string]any)) {
	tb.Helper()
	p := filepath.Join(dir, "model.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	edit(m)
	out, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, out, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func TestOpenBadBundle(t *testing.T) {
	testModel(t) // ONNX Runtime must load: fail here rather than in every case
	cases := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   []string // substrings of the error
	}{
		{"missing graph file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "itm.onnx"))
		}, []string{"itm.onnx"}},
		{"wrong input name", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				obj(m, "graphs", "vision")["inputs"] = []string{"pixels"}
			})
		}, []string{"graphs.vision.inputs", "pixels"}},
		{"wrong output name", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				obj(m, "graphs", "text")["outputs"] = []string{"text_embeds", "hidden"}
			})
		}, []string{"graphs.text.outputs"}},
		{"embedding_dim disagrees with graphs", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["embedding_dim"] = 17 })
		}, []string{"embedding_dim", "17", "vision.onnx"}},
		{"token_width disagrees with graphs", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "dims")["token_width"] = 33 })
		}, []string{"dims.token_width", "33"}},
		{"image size disagrees with graph", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "image")["size"] = 96 })
		}, []string{"image.size", "96"}},
		{"unknown tokenizer", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "text")["tokenizer"] = "sentencepiece" })
		}, []string{"text.tokenizer", "sentencepiece"}},
		{"bad JSON", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"schema_version": 1,`), 0o644)
		}, []string{"model.json"}},
		{"schema version", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["schema_version"] = 2 })
		}, []string{"schema_version"}},
		{"unknown family", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["family"] = "llava" })
		}, []string{"family", "llava"}},
		{"bad resize", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "image")["resize"] = "pad" })
		}, []string{"image.resize"}},
		{"zero std", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "image")["std"] = []float64{0.2, 0, 0.2} })
		}, []string{"image.std"}},
		{"missing special id", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { delete(obj(m, "text", "special_ids"), "sep") })
		}, []string{"text.special_ids.sep"}},
		{"special id disagrees with vocab", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "text", "special_ids")["cls"] = 7 })
		}, []string{"text.special_ids.cls", "vocab.txt"}},
		{"max_length too small", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "text")["max_length"] = 2 })
		}, []string{"text.max_length"}},
		{"vision graph missing from manifest", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { delete(obj(m, "graphs"), "vision") })
		}, []string{"graphs.vision"}},
		{"hash mismatch", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "text.onnx")
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 0xFF
			os.WriteFile(p, data, 0o644)
		}, []string{"text.onnx", "sha256"}},
		{"missing vocab", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "vocab.txt"))
		}, []string{"vocab.txt"}},
		{"graph file not listed", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { delete(obj(m, "files"), "vision.onnx") })
		}, []string{"graphs.vision.file", "vision.onnx", "not listed"}},
		{"path escapes bundle", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "graphs", "itm")["file"] = "../itm.onnx" })
		}, []string{"graphs.itm.file", "../itm.onnx"}},
		{"unknown rank", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "scores")["rank"] = "itm_logits" })
		}, []string{"scores.rank", "itm_logits", "itm_logit+itc"}},
		{"itc rank with an itm graph", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "scores")["rank"] = "itc" })
		}, []string{"scores.rank", "without an itm graph"}},
		{"negative tolerance", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "tolerance")["p_match_abs"] = -1e-4 })
		}, []string{"tolerance.p_match_abs"}},
		{"cosine tolerance above 1", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "tolerance")["embed_cosine"] = 1.5 })
		}, []string{"tolerance.embed_cosine"}},
		{"text graph without a mask beside an itm graph", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "graphs", "text")["inputs"] = []string{"input_ids"} })
		}, []string{"graphs.text.inputs", "attention_mask"}},
		{"a name for a tensor the graph does not list", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				obj(m, "graphs", "vision")["names"] = map[string]any{"input_ids": "text"}
			})
		}, []string{"graphs.vision.names", "input_ids"}},
		{"a graph tensor name the graph lacks", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				obj(m, "graphs", "vision")["names"] = map[string]any{"pixel_values": "image"}
			})
		}, []string{"vision.onnx", `"image"`}},
		{"negative batch", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "graphs", "text")["batch"] = -1 })
		}, []string{"graphs.text.batch"}},
		{"pad_token of another tokenizer", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { obj(m, "text")["pad_token"] = "[PAD]" })
		}, []string{"text.pad_token", "hf-tokenizer-json"}},
		{"graph swapped for another", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				obj(m, "graphs", "text")["file"] = "itm.onnx"
			})
		}, []string{"graphs.text", "itm.onnx"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyBundle(t)
			tc.mutate(t, dir)
			m, err := Open(os.DirFS(dir), Options{})
			if err == nil {
				m.Close()
				t.Fatal("Open succeeded on a bad bundle")
			}
			t.Log(err)
			if !errors.Is(err, ErrBadBundle) {
				t.Errorf("error does not wrap ErrBadBundle: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenDualEncoder(t *testing.T) {
	testModel(t)
	dir := copyBundle(t)
	editManifest(t, dir, func(m map[string]any) {
		delete(obj(m, "graphs"), "itm")
		delete(obj(m, "files"), "itm.onnx")
	})
	os.Remove(filepath.Join(dir, "itm.onnx"))
	m, err := Open(os.DirFS(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.HasITM() || m.ITM != nil {
		t.Fatal("a bundle without itm graph has an ITM")
	}
	rep, err := Verify(t.Context(), m, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("verify of the dual encoder failed: %+v", rep.Checks)
	}
}

func TestLoadBundleNoRuntime(t *testing.T) {
	b, err := LoadBundle(models.Default())
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.Tolerance.EmbedCosine == 0 || b.Manifest.MatchThreshold() != 0.5 {
		t.Errorf("defaults not applied: %+v", b.Manifest.Tolerance)
	}
	tok, err := b.NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLen() != b.Manifest.Text.MaxLength {
		t.Errorf("tokenizer max len %d, manifest %d", tok.MaxLen(), b.Manifest.Text.MaxLength)
	}
}

// Fields the manifest leaves out take the documented defaults: the tolerances, and the rank
// (itm with an ITM graph, itc without).
func TestManifestDefaults(t *testing.T) {
	raw, err := fs.ReadFile(models.Default(), "model.json")
	if err != nil {
		t.Fatal(err)
	}
	parse := func(t *testing.T, edit func(m map[string]any)) *Manifest {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		edit(v)
		data, _ := json.Marshal(v)
		m, err := ParseManifest(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := parse(t, func(m map[string]any) {
		delete(m, "tolerance")
		delete(obj(m, "scores"), "rank")
	})
	want := Tolerance{PixelAbs: DefaultPixelAbs, PixelAbsJPEG: DefaultPixelAbsJPEG, EmbedCosine: DefaultEmbedCosine,
		ITMLogitAbs: DefaultITMLogitAbs, PMatchAbs: DefaultPMatchAbs, CrossAttentionAbs: DefaultCrossAttentionAbs}
	if m.Tolerance != want || m.Scores.Rank != RankITM || m.Precision != PrecisionFP32 || m.Optimised {
		t.Errorf("tolerance %+v rank %q precision %q optimised %v, want %+v, %q, fp32, false", m.Tolerance,
			m.Scores.Rank, m.Precision, m.Optimised, want, RankITM)
	}
	if p := parse(t, func(m map[string]any) { m["precision"], m["optimised"] = "int8", true }); p.Precision != PrecisionInt8 || !p.Optimised {
		t.Errorf("precision %q optimised %v, want int8 and true", p.Precision, p.Optimised)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	v["precision"] = "int4"
	data, _ := json.Marshal(v)
	if _, err := ParseManifest(data); err == nil || !strings.Contains(err.Error(), "precision") {
		t.Errorf("precision int4: %v, want an error naming the field", err)
	}
	dual := parse(t, func(m map[string]any) {
		delete(obj(m, "graphs"), "itm")
		delete(obj(m, "scores"), "rank")
	})
	if dual.Scores.Rank != RankITC {
		t.Errorf("dual encoder rank %q, want %q", dual.Scores.Rank, RankITC)
	}
	for _, r := range append(ITMRanks, "") {
		if got := parse(t, func(m map[string]any) { obj(m, "scores")["rank"] = r }).Scores.Rank; r != "" && got != r {
			t.Errorf("rank %q parsed as %q", r, got)
		}
	}
}

// TestGraphNamesAndBatch: a manifest that names the graphs' tensors explicitly and fixes the
// batch at 1 (as a graph exported without a dynamic batch axis needs) gives the golden outputs,
// each image and text run on its own.
func TestGraphNamesAndBatch(t *testing.T) {
	testModel(t)
	dir := copyBundle(t)
	editManifest(t, dir, func(m map[string]any) {
		obj(m, "graphs", "vision")["names"] = map[string]any{"pixel_values": "pixel_values", "image_embeds": "image_embeds"}
		obj(m, "graphs", "vision")["batch"] = 1
		obj(m, "graphs", "text")["batch"] = 1
	})
	m, err := Open(os.DirFS(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Vision.maxBatch != 1 || m.Text.maxBatch != 1 || m.ITM.maxBatch == 1 {
		t.Errorf("batches: vision %d, text %d, itm %d", m.Vision.maxBatch, m.Text.maxBatch, m.ITM.maxBatch)
	}
	rep, err := Verify(context.Background(), m, os.DirFS(dir))
	if err != nil || !rep.OK() {
		t.Fatalf("verify with batch 1: %+v %v", rep, err)
	}
}
