package encoder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"slices"

	"github.com/glimpse-search/glimpse/photo"
)

// Golden is a bundle's golden.json: reference inputs and outputs computed by the exporter.
type Golden struct {
	Images []GoldenImage `json:"images"`
	Texts  []GoldenText  `json:"texts"`
	Pairs  []GoldenPair  `json:"pairs"`
}

// GoldenImage is one golden image file with its reference pixel statistics and embedding.
type GoldenImage struct {
	File        string     `json:"file"`
	Pixels      PixelStats `json:"pixels"`
	ImageEmbeds []float64  `json:"image_embeds"`
}

// PixelStats summarises a preprocessed [3,S,S] tensor.
type PixelStats struct {
	Shape        []int     `json:"shape"`
	Mean         float64   `json:"mean"`
	Std          float64   `json:"std"`
	Min          float64   `json:"min"`
	Max          float64   `json:"max"`
	ChannelMeans []float64 `json:"channel_means"`
	Slice        struct {
		Channel int       `json:"channel"`
		Row     int       `json:"row"`
		Values  []float64 `json:"values"`
	} `json:"slice"`
}

// GoldenText is one golden text with its reference token ids and embedding.
type GoldenText struct {
	Text          string    `json:"text"`
	InputIDs      []int64   `json:"input_ids"`
	AttentionMask []int64   `json:"attention_mask"`
	TextEmbeds    []float64 `json:"text_embeds"`
}

// GoldenPair is one (image, text) pair's reference ITM output.
type GoldenPair struct {
	Image                int       `json:"image"`
	Text                 int       `json:"text"`
	ITMLogits            []float64 `json:"itm_logits"`
	PMatch               float64   `json:"p_match"`
	CrossAttentionCLSSum *float64  `json:"cross_attention_cls_sum"`
}

// Check is one comparison of verify-model.
type Check struct {
	Name   string  // what was compared, e.g. "image golden/scene_0.png image_embeds"
	MaxAbs float64 // largest absolute difference
	Mean   float64 // mean absolute difference (pixels, logits), or NaN
	Cosine float64 // cosine similarity (embeddings), or NaN
	Limit  string  // the tolerance applied
	Detail string  // extra figures (pixel statistics differences)
	OK     bool
}

// Report is the result of [Verify].
type Report struct {
	Checks []Check
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// LoadGolden reads the manifest's golden file from fsys, checking its sha256.
func LoadGolden(fsys fs.FS, m *Manifest) (*Golden, error) {
	if m.Golden == "" {
		return nil, fmt.Errorf("%w: field golden: the bundle names no golden file", ErrBadBundle)
	}
	data, err := readListed(fsys, m, m.Golden)
	if err != nil {
		return nil, err
	}
	g, err := ParseGolden(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadBundle, m.Golden, err)
	}
	return g, nil
}

// ParseGolden decodes and checks a golden file (golden.json's format): some images and texts,
// image paths that are clean relative paths, and pairs that name them and have two logits.
func ParseGolden(data []byte) (*Golden, error) {
	var g Golden
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, err
	}
	if len(g.Images) == 0 || len(g.Texts) == 0 {
		return nil, errors.New("no images or no texts")
	}
	for i, gi := range g.Images {
		if err := checkBundlePath(gi.File); err != nil {
			return nil, fmt.Errorf("image %d: %v", i, err)
		}
	}
	for i, p := range g.Pairs {
		if p.Image < 0 || p.Image >= len(g.Images) || p.Text < 0 || p.Text >= len(g.Texts) || len(p.ITMLogits) != 2 {
			return nil, fmt.Errorf("pair %d is malformed", i)
		}
	}
	return &g, nil
}

// readListed reads a bundle file that must be listed in the manifest and match its sha256.
func readListed(fsys fs.FS, m *Manifest, p string) ([]byte, error) {
	want, ok := m.Files[p]
	if !ok {
		return nil, fmt.Errorf("%w: file %s is not listed in files", ErrBadBundle, p)
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("%w: file %s: %v", ErrBadBundle, p, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("%w: file %s: sha256 %s, manifest says %s", ErrBadBundle, p, got, want)
	}
	return data, nil
}

// Verify runs the model on the bundle's golden inputs, decoding the golden images from their
// files, and compares pixels, token ids, embeddings, ITM logits, p_match and cross-attention
// with the reference under the manifest's tolerance. An error means the check could not run; a
// failed comparison is a Check with OK false.
func Verify(ctx context.Context, m *Model, fsys fs.FS) (*Report, error) {
	g, err := LoadGolden(fsys, m.Manifest)
	if err != nil {
		return nil, err
	}
	return verify(ctx, m, g, func(p string) ([]byte, error) { return readListed(fsys, m.Manifest, p) })
}

// VerifyGolden is [Verify] against a golden file from outside the bundle (an upstream
// implementation's outputs, say): g's image paths are read from images (usually the golden
// file's folder), and no sha256 is checked.
func VerifyGolden(ctx context.Context, m *Model, g *Golden, images fs.FS) (*Report, error) {
	return verify(ctx, m, g, func(p string) ([]byte, error) { return fs.ReadFile(images, p) })
}

func verify(ctx context.Context, m *Model, g *Golden, read func(string) ([]byte, error)) (*Report, error) {
	tol := m.Manifest.Tolerance
	rep := &Report{}
	imgs := make([]image.Image, len(g.Images))
	for i, gi := range g.Images {
		data, err := read(gi.File)
		if err != nil {
			return nil, fmt.Errorf("golden image %s: %w", gi.File, err)
		}
		limit := tol.PixelAbs
		if _, format, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && format == "jpeg" {
			limit = tol.PixelAbsJPEG
		}
		if imgs[i], err = photo.Decode(data, m.pre.opts); err != nil {
			return nil, fmt.Errorf("golden image %s: %w", gi.File, err)
		}
		pix, err := m.pre.Pixels(imgs[i])
		if err != nil {
			return nil, fmt.Errorf("golden image %s: %w", gi.File, err)
		}
		rep.Checks = append(rep.Checks, comparePixels("image "+gi.File+" pixels", pix, m.pre.size, gi.Pixels, limit))
	}
	vis, err := m.Vision.Encode(ctx, imgs, VisionOptions{Tokens: true})
	if err != nil {
		return nil, err
	}
	for i, gi := range g.Images {
		rep.Checks = append(rep.Checks, compareEmbed("image "+gi.File+" image_embeds", vis.Embeds[i], gi.ImageEmbeds, tol.EmbedCosine))
	}
	texts := make([]string, len(g.Texts))
	for i, t := range g.Texts {
		texts[i] = t.Text
	}
	txt, err := m.Text.Encode(ctx, texts, TextOptions{States: true})
	if err != nil {
		return nil, err
	}
	for i, gt := range g.Texts {
		name := fmt.Sprintf("text %d %.40q", i, gt.Text)
		ids := slices.Equal(txt.IDs[i], gt.InputIDs) && slices.Equal(txt.Masks[i], gt.AttentionMask)
		rep.Checks = append(rep.Checks, Check{Name: name + " input_ids", MaxAbs: b2f(!ids), Mean: math.NaN(),
			Cosine: math.NaN(), Limit: "exact", OK: ids})
		rep.Checks = append(rep.Checks, compareEmbed(name+" text_embeds", txt.Embeds[i], gt.TextEmbeds, tol.EmbedCosine))
	}
	if m.ITM == nil || len(g.Pairs) == 0 {
		return rep, nil
	}
	pairs := make([]Pair, len(g.Pairs))
	for i, p := range g.Pairs {
		pairs[i] = Pair{ImageTokens: vis.Tokens[p.Image], TextStates: txt.States[p.Text], Mask: txt.Masks[p.Text]}
	}
	itm, err := m.ITM.Score(ctx, pairs, ITMOptions{CrossAttention: true})
	if err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, compareITM(g.Pairs, itm, m.ITM.tokens, tol)...)
	return rep, nil
}

// compareITM checks the ITM head's logits, p_match and, where the golden has it, the
// cross-attention of the text CLS row (a distribution over the image tokens: its sum is 1).
func compareITM(want []GoldenPair, got *ITMOutput, tokens int, tol Tolerance) []Check {
	var worst, sum, worstP, sumP float64
	crossOK, crossWorst := true, 0.0
	for i, p := range want {
		for k := range 2 {
			d := math.Abs(float64(got.Logits[i][k]) - p.ITMLogits[k])
			worst = math.Max(worst, d)
			sum += d
		}
		d := math.Abs(float64(PMatch(got.Logits[i])) - p.PMatch)
		worstP = math.Max(worstP, d)
		sumP += d
		if p.CrossAttentionCLSSum != nil && got.CrossAttention != nil {
			var s float64
			for _, v := range got.CrossAttention[i][:tokens] { // row 0: the text CLS
				s += float64(v)
			}
			d := math.Abs(s - *p.CrossAttentionCLSSum)
			crossWorst = math.Max(crossWorst, d)
			crossOK = crossOK && d <= tol.CrossAttentionAbs
		}
	}
	n := float64(len(want))
	checks := []Check{
		{Name: fmt.Sprintf("itm_logits (%d pairs)", len(want)), MaxAbs: worst, Mean: sum / (2 * n), Cosine: math.NaN(),
			Limit: fmt.Sprintf("abs <= %g", tol.ITMLogitAbs), OK: worst <= tol.ITMLogitAbs},
		{Name: "p_match", MaxAbs: worstP, Mean: sumP / n, Cosine: math.NaN(),
			Limit: fmt.Sprintf("abs <= %g", tol.PMatchAbs), OK: worstP <= tol.PMatchAbs},
	}
	if got.CrossAttention != nil {
		checks = append(checks, Check{Name: "cross_attention CLS row sum", MaxAbs: crossWorst, Mean: math.NaN(),
			Cosine: math.NaN(), Limit: fmt.Sprintf("abs <= %g", tol.CrossAttentionAbs), OK: crossOK})
	}
	return checks
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Stats computes the golden statistics of a [3,S,S] tensor (population std, as numpy).
func Stats(pix []float32, s int) PixelStats {
	var st PixelStats
	st.Shape = []int{3, s, s}
	st.Min, st.Max = math.Inf(1), math.Inf(-1)
	var sum float64
	plane := s * s
	st.ChannelMeans = make([]float64, 3)
	for c := range 3 {
		var cs float64
		for _, v := range pix[c*plane : (c+1)*plane] {
			f := float64(v)
			cs += f
			st.Min, st.Max = math.Min(st.Min, f), math.Max(st.Max, f)
		}
		st.ChannelMeans[c] = cs / float64(plane)
		sum += cs
	}
	st.Mean = sum / float64(len(pix))
	var ss float64
	for _, v := range pix {
		d := float64(v) - st.Mean
		ss += d * d
	}
	st.Std = math.Sqrt(ss / float64(len(pix)))
	st.Slice.Channel, st.Slice.Row = 0, s/2
	for _, v := range pix[(s/2)*s : (s/2)*s+s] {
		st.Slice.Values = append(st.Slice.Values, float64(v))
	}
	return st
}

// comparePixels compares a preprocessed image with its golden slice and statistics: every
// slice value and statistic must be within limit (absolute, normalised units).
func comparePixels(name string, pix []float32, s int, want PixelStats, limit float64) Check {
	c := Check{Name: name, Cosine: math.NaN(), Limit: fmt.Sprintf("abs <= %g", limit)}
	if len(want.Shape) != 3 || want.Shape[0] != 3 || want.Shape[1] != s || want.Shape[2] != s ||
		want.Slice.Channel < 0 || want.Slice.Channel > 2 || want.Slice.Row < 0 || want.Slice.Row >= s ||
		len(want.Slice.Values) != s {
		c.MaxAbs, c.Mean, c.Limit = math.Inf(1), math.NaN(), fmt.Sprintf("golden shape %v does not match [3,%d,%d]", want.Shape, s, s)
		return c
	}
	got := Stats(pix, s)
	off := want.Slice.Channel*s*s + want.Slice.Row*s
	var sum float64
	for i, w := range want.Slice.Values {
		d := math.Abs(float64(pix[off+i]) - w)
		c.MaxAbs = math.Max(c.MaxAbs, d)
		sum += d
	}
	c.Mean = sum / float64(s)
	stats := []float64{got.Mean - want.Mean, got.Std - want.Std, got.Min - want.Min, got.Max - want.Max}
	for i := range min(len(want.ChannelMeans), 3) {
		stats = append(stats, got.ChannelMeans[i]-want.ChannelMeans[i])
	}
	c.Detail = fmt.Sprintf("mean %+.2g std %+.2g min %+.2g max %+.2g channel means %+.2g",
		stats[0], stats[1], stats[2], stats[3], stats[4:])
	c.OK = c.MaxAbs <= limit
	for _, d := range stats {
		c.OK = c.OK && math.Abs(d) <= limit
	}
	return c
}

func compareEmbed(name string, got []float32, want []float64, minCos float64) Check {
	c := Check{Name: name, Mean: math.NaN(), Limit: fmt.Sprintf("cosine >= %g", minCos)}
	if len(got) != len(want) {
		c.MaxAbs, c.Cosine = math.Inf(1), math.NaN()
		c.Limit = fmt.Sprintf("golden has %d values, model %d", len(want), len(got))
		return c
	}
	var dot, ng, nw float64
	for i, w := range want {
		g := float64(got[i])
		dot += g * w
		ng += g * g
		nw += w * w
		c.MaxAbs = math.Max(c.MaxAbs, math.Abs(g-w))
	}
	c.Cosine = dot / math.Sqrt(ng*nw)
	c.OK = c.Cosine >= minCos
	return c
}

// MakeGolden computes a golden file of the model's own outputs: for each image file of images
// (paths as they will be listed in the golden file) its pixel statistics and embedding, for each
// text its token ids, mask and embedding, and with an ITM head every pair's logits. It records
// what this runtime computes, so a later verify-model detects a change of runtime, library or
// file; it proves nothing about fidelity to an upstream model, which only a golden computed by
// that model does.
func MakeGolden(ctx context.Context, m *Model, images fs.FS, files []string, texts []string) (*Golden, error) {
	g := &Golden{}
	imgs := make([]image.Image, len(files))
	for i, f := range files {
		data, err := fs.ReadFile(images, f)
		if err != nil {
			return nil, fmt.Errorf("golden image %s: %w", f, err)
		}
		if imgs[i], err = photo.Decode(data, m.pre.opts); err != nil {
			return nil, fmt.Errorf("golden image %s: %w", f, err)
		}
		pix, err := m.pre.Pixels(imgs[i])
		if err != nil {
			return nil, fmt.Errorf("golden image %s: %w", f, err)
		}
		g.Images = append(g.Images, GoldenImage{File: f, Pixels: Stats(pix, m.pre.size)})
	}
	vis, err := m.Vision.Encode(ctx, imgs, VisionOptions{Tokens: m.ITM != nil})
	if err != nil {
		return nil, err
	}
	for i := range g.Images {
		g.Images[i].ImageEmbeds = f64(vis.Embeds[i])
	}
	txt, err := m.Text.Encode(ctx, texts, TextOptions{States: m.ITM != nil})
	if err != nil {
		return nil, err
	}
	for i, t := range texts {
		g.Texts = append(g.Texts, GoldenText{Text: t, InputIDs: txt.IDs[i], AttentionMask: txt.Masks[i],
			TextEmbeds: f64(txt.Embeds[i])})
	}
	if m.ITM == nil {
		return g, nil
	}
	var pairs []Pair
	for i := range files {
		for j := range texts {
			pairs = append(pairs, Pair{ImageTokens: vis.Tokens[i], TextStates: txt.States[j], Mask: txt.Masks[j]})
			g.Pairs = append(g.Pairs, GoldenPair{Image: i, Text: j})
		}
	}
	itm, err := m.ITM.Score(ctx, pairs, ITMOptions{})
	if err != nil {
		return nil, err
	}
	for k := range g.Pairs {
		g.Pairs[k].ITMLogits = f64(itm.Logits[k][:])
		g.Pairs[k].PMatch = float64(PMatch(itm.Logits[k]))
	}
	return g, nil
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
