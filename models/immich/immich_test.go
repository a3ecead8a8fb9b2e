package immich

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
)

// TestManifest: the configs of immich's ViT-B-32 export give a dual-encoder manifest with
// open_clip's preprocessing; configs Glimpse cannot reproduce are refused with the reason.
func TestManifest(t *testing.T) {
	const cfgJSON = `{"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
		"text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}`
	const preJSON = `{"size": [224, 224], "mode": "RGB", "mean": [0.48145466, 0.4578275, 0.40821073],
		"std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}`
	parse := func(edit func(c *openclipConfig, p *preprocessCfg)) (openclipConfig, preprocessCfg) {
		var c openclipConfig
		var p preprocessCfg
		if err := json.Unmarshal([]byte(cfgJSON), &c); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(preJSON), &p); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&c, &p)
		}
		return c, p
	}
	c, p := parse(nil)
	m, err := manifest(c, p, Options{Name: "clip-vit-b-32", Source: "huggingface:immich-app/ViT-B-32__openai@abc"})
	if err != nil {
		t.Fatal(err)
	}
	if m.EmbeddingDim != 512 || m.Image.Size != 224 || m.Image.Resize != encoder.ResizeCenterCrop ||
		m.Image.Alpha != encoder.AlphaDropAfterResize || *m.Image.EXIFTranspose || m.Text.MaxLength != 77 ||
		m.Dims.PatchGrid != 7 || m.Dims.ImageTokens != 50 || m.Scores.Rank != encoder.RankITC || m.HasITM() {
		t.Errorf("manifest %+v", m)
	}
	cases := []struct {
		name string
		edit func(c *openclipConfig, p *preprocessCfg)
		want string
	}{
		{"bilinear", func(_ *openclipConfig, p *preprocessCfg) { p.Interpolation = "bilinear" }, "bicubic"},
		{"letterboxed", func(_ *openclipConfig, p *preprocessCfg) { p.ResizeMode = "longest" }, "resize_mode"},
		{"not square", func(_ *openclipConfig, p *preprocessCfg) { p.Size = json.RawMessage(`[224, 256]`) }, "square"},
		{"size differs from the model's", func(_ *openclipConfig, p *preprocessCfg) { p.Size = json.RawMessage(`256`) }, "image_size"},
		{"no embedding size", func(c *openclipConfig, _ *preprocessCfg) { c.EmbedDim = 0 }, "embed_dim"},
		{"patch does not divide", func(c *openclipConfig, _ *preprocessCfg) { c.VisionCfg.PatchSize = 30 }, "patch_size"},
		{"grey", func(_ *openclipConfig, p *preprocessCfg) { p.Mode = "L" }, "RGB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, p := parse(tc.edit)
			_, err := manifest(c, p, Options{Name: "x"})
			if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("manifest: %v, want ErrLayout with %q", err, tc.want)
			}
		})
	}
}
