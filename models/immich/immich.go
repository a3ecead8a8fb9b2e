package immich

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/encoder/tokenizer"
	"github.com/glimpse-search/glimpse/models"
)

// ErrLayout: the folder is not a model in immich's layout that Glimpse can run.
var ErrLayout = errors.New("not a supported immich model folder")

// Files are the repository files a conversion reads (the ONNX graphs and their configs), as
// path.Match patterns relative to the repository.
var Files = []string{"config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx",
	"textual/tokenizer.json", "textual/tokenizer_config.json", "textual/merges.txt"}

// Options configures Convert.
type Options struct {
	// Name is the bundle's name (required).
	Name string
	// Source says where the folder came from, recorded in the manifest ("huggingface:owner/name@commit").
	Source string
	// LibraryPath is ONNX Runtime's library (encoder.Options.LibraryPath): the graphs are
	// inspected and run once to write the golden file. Default: the usual places.
	LibraryPath string
}

// openclipConfig is the part of config.json (open_clip's model config) a bundle needs.
type openclipConfig struct {
	EmbedDim  int `json:"embed_dim"`
	VisionCfg struct {
		ImageSize json.RawMessage `json:"image_size"` // an int or [h, w]
		PatchSize int             `json:"patch_size"`
		Width     int             `json:"width"`
	} `json:"vision_cfg"`
	TextCfg struct {
		ContextLength   int            `json:"context_length"`
		HFTokenizerName string         `json:"hf_tokenizer_name"`
		TokenizerKwargs map[string]any `json:"tokenizer_kwargs"`
	} `json:"text_cfg"`
}

// preprocessCfg is visual/preprocess_cfg.json (open_clip's get_model_preprocess_cfg).
type preprocessCfg struct {
	Size          json.RawMessage `json:"size"` // an int or [h, w]
	Mode          string          `json:"mode"`
	Mean          []float64       `json:"mean"`
	Std           []float64       `json:"std"`
	Interpolation string          `json:"interpolation"`
	ResizeMode    string          `json:"resize_mode"`
}

// squareSize reads an int or a [h, w] with h == w.
func squareSize(raw json.RawMessage, field string) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err == nil && n > 0 {
		return n, nil
	}
	var hw []int
	if err := json.Unmarshal(raw, &hw); err == nil && len(hw) == 2 && hw[0] == hw[1] && hw[0] > 0 {
		return hw[0], nil
	}
	return 0, fmt.Errorf("%w: %s %s: want a square size", ErrLayout, field, raw)
}

// Convert writes the bundle of the immich model folder src (the repository as immich publishes
// it: config.json, visual/ and textual/) into dst, which must not exist. The graphs are copied
// as they are; the manifest maps their tensor names and fixed batch onto Glimpse's contract and
// describes the preprocessing and tokenization of the model's own package, open_clip, which
// trained it (shorter side resized bicubically and centre-cropped, alpha dropped after the
// resize, no EXIF rotation; OpenAI's CLIP BPE with its clean-up, padded with 0), so the bundle
// computes what open_clip computes. The golden file records the runtime's own outputs on the
// default bundle's golden images and texts.
func Convert(ctx context.Context, src, dst string, o Options) error {
	if err := models.ValidName(o.Name); err != nil {
		return err
	}
	read := func(p string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrLayout, err)
		}
		return data, nil
	}
	var cfg openclipConfig
	var pre preprocessCfg
	for _, f := range []struct {
		path string
		v    any
	}{{"config.json", &cfg}, {"visual/preprocess_cfg.json", &pre}} {
		data, err := read(f.path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, f.v); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrLayout, f.path, err)
		}
	}
	man, err := manifest(cfg, pre, o)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return fmt.Errorf("bundle folder: %w", err)
	}
	files := map[string][]byte{}
	for graph, file := range map[string]string{encoder.GraphVision: "visual/model.onnx", encoder.GraphText: "textual/model.onnx"} {
		data, err := read(file)
		if err != nil {
			return err
		}
		if err := bindGraph(man.Graphs[graph], graph, data, o.LibraryPath); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		files[man.Graphs[graph].File] = data
	}
	if err := tokenizerFiles(man, cfg, read, files); err != nil {
		return err
	}
	// the golden images and texts of the default bundle, with this model's outputs
	raw, err := fs.ReadFile(models.Default(), "golden.json")
	if err != nil {
		return fmt.Errorf("default bundle: %w", err)
	}
	def, err := encoder.ParseGolden(raw)
	if err != nil {
		return fmt.Errorf("default bundle: %w", err)
	}
	var imgs []string
	for _, gi := range def.Images {
		data, err := fs.ReadFile(models.Default(), gi.File)
		if err != nil {
			return fmt.Errorf("default bundle: %w", err)
		}
		files[gi.File] = data
		imgs = append(imgs, gi.File)
	}
	if err := writeBundle(dst, man, files, nil); err != nil {
		return err
	}
	m, err := encoder.Open(os.DirFS(dst), encoder.Options{LibraryPath: o.LibraryPath})
	if err != nil {
		return fmt.Errorf("the converted bundle does not load: %w", err)
	}
	defer m.Close()
	var texts []string
	for _, t := range def.Texts {
		texts = append(texts, t.Text)
	}
	g, err := encoder.MakeGolden(ctx, m, os.DirFS(dst), imgs, texts)
	if err != nil {
		return fmt.Errorf("golden outputs: %w", err)
	}
	gj, err := json.MarshalIndent(struct {
		Reference string `json:"reference"`
		*encoder.Golden
	}{"Glimpse's runtime on the converted graphs (" + encoder.RuntimeLibrary() + "), at conversion", g}, "", " ")
	if err != nil {
		return err
	}
	man.Golden = "golden.json"
	files["golden.json"] = gj
	return writeBundle(dst, man, files, []string{"golden.json"})
}

// manifest describes the bundle from the model's configs.
func manifest(cfg openclipConfig, pre preprocessCfg, o Options) (*encoder.Manifest, error) {
	size, err := squareSize(pre.Size, "visual/preprocess_cfg.json size")
	if err != nil {
		return nil, err
	}
	imageSize, err := squareSize(cfg.VisionCfg.ImageSize, "config.json vision_cfg.image_size")
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.EmbedDim <= 0:
		return nil, fmt.Errorf("%w: config.json: embed_dim %d", ErrLayout, cfg.EmbedDim)
	case imageSize != size:
		return nil, fmt.Errorf("%w: preprocess size %d is not the model's image_size %d", ErrLayout, size, imageSize)
	case cfg.VisionCfg.PatchSize <= 0 || size%cfg.VisionCfg.PatchSize != 0 || cfg.VisionCfg.Width <= 0:
		return nil, fmt.Errorf("%w: config.json vision_cfg: a ViT with patch_size dividing %d and a width, got %d and %d",
			ErrLayout, size, cfg.VisionCfg.PatchSize, cfg.VisionCfg.Width)
	case pre.Interpolation != "bicubic":
		return nil, fmt.Errorf("%w: preprocess interpolation %q: Glimpse resizes bicubically only", ErrLayout, pre.Interpolation)
	case pre.Mode != "" && pre.Mode != "RGB":
		return nil, fmt.Errorf("%w: preprocess mode %q: want RGB", ErrLayout, pre.Mode)
	case len(pre.Mean) != 3 || len(pre.Std) != 3:
		return nil, fmt.Errorf("%w: preprocess mean and std: want 3 values each", ErrLayout)
	}
	resize := map[string]string{"shortest": encoder.ResizeCenterCrop, "squash": encoder.ResizeSquash}[pre.ResizeMode]
	if resize == "" {
		return nil, fmt.Errorf("%w: preprocess resize_mode %q: want shortest or squash", ErrLayout, pre.ResizeMode)
	}
	ctxLen := cfg.TextCfg.ContextLength
	if ctxLen == 0 {
		ctxLen = 77
	}
	grid := size / cfg.VisionCfg.PatchSize
	noEXIF := false
	m := &encoder.Manifest{
		SchemaVersion: encoder.SchemaVersion, Name: o.Name, Family: "clip",
		Description: "A CLIP dual encoder converted from immich's ONNX export (" + o.Source + "): no ITM head, " +
			"results ranked by the embeddings' cosine.",
		EmbeddingDim: cfg.EmbedDim,
		Image: encoder.ImageSpec{Size: size, Resize: resize, Interpolation: "bicubic", Mean: pre.Mean, Std: pre.Std,
			Alpha: encoder.AlphaDropAfterResize, EXIFTranspose: &noEXIF, CropRounding: encoder.CropHalfEven},
		Text: encoder.TextSpec{MaxLength: ctxLen},
		Graphs: map[string]*encoder.Graph{
			encoder.GraphVision: {File: "vision.onnx", Inputs: []string{encoder.InPixelValues},
				Outputs: []string{encoder.OutImageEmbeds}},
			encoder.GraphText: {File: "text.onnx", Inputs: []string{encoder.InInputIDs},
				Outputs: []string{encoder.OutTextEmbeds}},
		},
		Dims:   encoder.Dims{ImageTokens: grid*grid + 1, TokenWidth: cfg.VisionCfg.Width, PatchGrid: grid},
		Scores: encoder.Scores{ITC: "dot product of the normalised embeddings", Rank: encoder.RankITC},
	}
	return m, nil
}

// bindGraph maps a graph's one input and one output onto the contract's names, and records a
// fixed batch axis.
func bindGraph(g *encoder.Graph, graph string, data []byte, lib string) error {
	in, out, err := encoder.InspectGraph(data, lib)
	if err != nil {
		return err
	}
	if len(in) != 1 || len(out) != 1 {
		return fmt.Errorf("%w: the %s graph has %d inputs and %d outputs, want one of each", ErrLayout, graph, len(in), len(out))
	}
	wantIn := map[string][]string{encoder.GraphVision: {"float32"}, encoder.GraphText: {"int32", "int64"}}[graph]
	if !slices.Contains(wantIn, in[0].Type) || out[0].Type != "float32" {
		return fmt.Errorf("%w: the %s graph takes %s and gives %s", ErrLayout, graph, in[0].Type, out[0].Type)
	}
	g.Names = map[string]string{g.Inputs[0]: in[0].Name, g.Outputs[0]: out[0].Name}
	if len(in[0].Shape) > 0 && in[0].Shape[0] > 0 {
		g.Batch = int(in[0].Shape[0])
	}
	return nil
}

// tokenizerFiles picks the tokenizer: OpenAI's CLIP BPE with open_clip's clean-up for models
// open_clip tokenizes with its own SimpleTokenizer (no hf_tokenizer_name), from the folder's
// merges.txt; otherwise the folder's tokenizer.json, which open_clip then reads through the
// Hugging Face tokenizer, when it asks for no clean-up Glimpse's reader lacks.
func tokenizerFiles(m *encoder.Manifest, cfg openclipConfig, read func(string) ([]byte, error), files map[string][]byte) error {
	t := &m.Text
	if cfg.TextCfg.HFTokenizerName == "" {
		merges, err := read("textual/merges.txt")
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(merges, []byte("#version")) {
			return fmt.Errorf("%w: textual/merges.txt does not start with #version", ErrLayout)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(merges)
		if err := zw.Close(); err != nil {
			return err
		}
		const f = "bpe_simple_vocab_16e6.txt.gz"
		files[f] = gz.Bytes()
		t.Tokenizer, t.Files, t.Clean = encoder.TokenizerBPE, map[string]string{"merges": f}, "openai"
		t.SpecialIDs = map[string]int64{"start": 49406, "end": 49407, "pad": 0} // open_clip pads with 0
		return nil
	}
	if len(cfg.TextCfg.TokenizerKwargs) > 0 {
		return fmt.Errorf("%w: config.json text_cfg.tokenizer_kwargs %v: a clean-up Glimpse's tokenizer.json reader "+
			"does not do", ErrLayout, cfg.TextCfg.TokenizerKwargs)
	}
	tj, err := read("textual/tokenizer.json")
	if err != nil {
		return err
	}
	var tc struct {
		PadToken json.RawMessage `json:"pad_token"`
	}
	if data, err := read("textual/tokenizer_config.json"); err == nil {
		json.Unmarshal(data, &tc)
	}
	var pad string
	if json.Unmarshal(tc.PadToken, &pad) != nil {
		var obj struct {
			Content string `json:"content"`
		}
		json.Unmarshal(tc.PadToken, &obj)
		pad = obj.Content
	}
	files["tokenizer.json"] = tj
	t.Tokenizer, t.Files, t.PadToken = encoder.TokenizerHFJSON, map[string]string{"tokenizer": "tokenizer.json"}, pad
	tok, err := tokenizer.NewHFJSON(bytes.NewReader(tj), tokenizer.HFOptions{MaxLen: t.MaxLength, PadToken: pad})
	if err != nil {
		return fmt.Errorf("%w: textual/tokenizer.json: %v", ErrLayout, err)
	}
	t.SpecialIDs = map[string]int64{"pad": tok.PadID()}
	return nil
}

// writeBundle writes the manifest (with every file's sha256) into dst, and the files: all of
// them when only is nil, else only those named (the others are on disk already).
func writeBundle(dst string, m *encoder.Manifest, files map[string][]byte, only []string) error {
	m.Files = map[string]string{}
	for p, data := range files {
		sum := sha256.Sum256(data)
		m.Files[p] = hex.EncodeToString(sum[:])
		if only != nil && !slices.Contains(only, p) {
			continue
		}
		full := filepath.Join(dst, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "model.json"), append(data, '\n'), 0o644)
}
