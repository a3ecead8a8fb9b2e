package encoder

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"github.com/glimpse-search/glimpse/encoder/tokenizer"
)

// Bundle contract constants (docs/models.md).
const (
	SchemaVersion = 1

	ResizeSquash     = "squash"                   // bicubic resize of the whole image to S x S
	ResizeCenterCrop = "shorter_side_center_crop" // CLIP: shorter side to S, centre crop S x S

	// image.alpha: what becomes of an alpha channel (ImageSpec.Alpha).
	AlphaComposite       = "composite"         // composited on alpha_background before resizing (default)
	AlphaDrop            = "drop"              // PIL's convert("RGB") before resizing: stored colour, alpha ignored
	AlphaDropAfterResize = "drop_after_resize" // resized as decoded (premultiplied; paletted NEAREST), then dropped

	// image.crop_rounding: the centre crop's offset (ImageSpec.CropRounding).
	CropHalfEven = "half_even" // torchvision CenterCrop: round((R - S) / 2), half to even (default)
	CropFloor    = "floor"     // Hugging Face image_transforms.center_crop: (R - S) // 2

	PrecisionFP32 = "fp32"
	PrecisionInt8 = "int8"
	PrecisionFP16 = "fp16"

	TokenizerWordPiece = "bert-wordpiece"
	TokenizerBPE       = "clip-bpe"
	TokenizerUnigram   = "sentencepiece-unigram" // SigLIP's SentencePiece model (spiece.model)
	// TokenizerHFJSON is a Hugging Face tokenizers file (tokenizer.json), read as the tokenizers
	// package reads it and padded to max_length with text.pad_token, as immich's CLIP exports
	// publish it.
	TokenizerHFJSON = "hf-tokenizer-json"

	// Default tolerances of verify-model, when the manifest gives none: a small multiple of
	// what tiny-scenes measures (docs/models.md, "Tolerances"). One 8-bit level is 0.0146
	// normalised units.
	DefaultPixelAbs     = 1e-4   // lossless goldens: 5e-7, the golden file's 6-decimal rounding
	DefaultPixelAbsJPEG = 1e-3   // JPEG goldens: libjpeg-turbo here and in Pillow agree to 5e-7 too; 1e-3 leaves room for other builds, under one level
	DefaultEmbedCosine  = 0.9999 // 1 - 6.5e-12 from lossless goldens, 1 - 4.4e-6 from a JPEG one
	DefaultITMLogitAbs  = 1e-3   // 7.6e-6 on pairs of lossless goldens (5.2e-3 on a JPEG's)
	DefaultPMatchAbs    = 1e-4   // 1.0e-6 on pairs of lossless goldens (7.8e-4 on a JPEG's)
	// DefaultCrossAttentionAbs: the text CLS row of the cross-attention summed over the image
	// tokens (1, or less where the model attends to a null token), 5e-7 on lossless goldens.
	DefaultCrossAttentionAbs = 1e-3
	// DefaultMatchThreshold is scores.match_threshold when the manifest gives none.
	DefaultMatchThreshold = 0.5
)

// Graph names, input and output names fixed by the contract.
const (
	GraphVision = "vision"
	GraphText   = "text"
	GraphITM    = "itm"

	InPixelValues     = "pixel_values"
	OutImageEmbeds    = "image_embeds"
	OutImageTokens    = "image_tokens"
	InInputIDs        = "input_ids"
	InAttentionMask   = "attention_mask"
	OutTextEmbeds     = "text_embeds"
	OutTextStates     = "text_states"
	OutITMLogits      = "itm_logits"
	OutCrossAttention = "cross_attention"
)

var families = []string{"tiny-scenes", "mplug", "clip", "blip", "siglip"}

// Manifest is a bundle's model.json. Unknown fields are ignored (future schema additions), but
// every field the runtime relies on is checked by [ParseManifest].
type Manifest struct {
	SchemaVersion int               `json:"schema_version"`
	Name          string            `json:"name"`
	Family        string            `json:"family"`
	Description   string            `json:"description"`
	EmbeddingDim  int               `json:"embedding_dim"`
	Image         ImageSpec         `json:"image"`
	Text          TextSpec          `json:"text"`
	Graphs        map[string]*Graph `json:"graphs"`
	Dims          Dims              `json:"dims"`
	Scores        Scores            `json:"scores"`
	Tolerance     Tolerance         `json:"tolerance"`
	// Precision is the number format of the graphs' weight matrix products: PrecisionFP32
	// (default) or PrecisionInt8 (export.precision: dynamic quantisation, goldens still the
	// float32 reference, so verify-model measures the distance from it).
	Precision string `json:"precision,omitempty"`
	// Optimised says the graphs went through ONNX Runtime's transformer optimiser offline.
	Optimised bool              `json:"optimised,omitempty"`
	Golden    string            `json:"golden"`
	Files     map[string]string `json:"files"` // bundle-relative path -> hex sha256

	Training   json.RawMessage `json:"training,omitempty"`
	Evaluation json.RawMessage `json:"evaluation,omitempty"`
}

// ImageSpec is the manifest's image section: how pixels are prepared for the vision graph.
// Alpha, EXIFTranspose and CropRounding reproduce the upstream model's own image loader; each
// is optional, and absent means Glimpse's original behaviour.
type ImageSpec struct {
	Size            int       `json:"size"`          // S
	Resize          string    `json:"resize"`        // ResizeSquash or ResizeCenterCrop
	Interpolation   string    `json:"interpolation"` // "bicubic" (PIL's)
	Mean            []float64 `json:"mean"`          // 3 values, after scaling to [0,1]
	Std             []float64 `json:"std"`           // 3 values > 0
	AlphaBackground []int     `json:"alpha_background,omitempty"`
	// Alpha is what becomes of an alpha channel, as the upstream loader does it with PIL:
	// AlphaComposite (default): composited on AlphaBackground before resizing; AlphaDrop: the
	// stored colour, alpha ignored, before resizing (img.convert("RGB"): ModelScope mPLUG, BLIP,
	// the Hugging Face image processors; a transparent black pixel stays black); or
	// AlphaDropAfterResize: resized as decoded, then dropped (OpenAI CLIP and open_clip, which
	// convert after Resize and CenterCrop: PIL resizes RGBA and gray+alpha images premultiplied,
	// and paletted ones with NEAREST). Opaque images other than paletted ones give the same
	// pixels in every mode.
	Alpha string `json:"alpha,omitempty"`
	// EXIFTranspose says whether a JPEG's EXIF orientation is applied before preprocessing
	// (default true). False: the model sees the JPEG as stored (OpenAI CLIP and Salesforce BLIP
	// open files with Image.open(p).convert("RGB")); thumbnails and displayed sizes stay upright.
	EXIFTranspose *bool `json:"exif_transpose,omitempty"`
	// CropRounding is the offset of ResizeCenterCrop's crop in the R-pixel resized side:
	// CropHalfEven (default, torchvision's round((R - S) / 2)) or CropFloor (the Hugging Face
	// image processors' (R - S) // 2). R is int(S * long / short) in both.
	CropRounding string `json:"crop_rounding,omitempty"`
}

// TextSpec is the manifest's text section: the tokenizer and its files.
type TextSpec struct {
	Tokenizer  string            `json:"tokenizer"`
	Files      map[string]string `json:"files"` // "vocab" or "merges" -> bundle path
	LowerCase  *bool             `json:"lower_case"`
	MaxLength  int               `json:"max_length"`
	SpecialIDs map[string]int64  `json:"special_ids"`
	// Clean is the upstream pipeline's clean-up of a text before its tokenizer (optional):
	// "blip_caption" (WordPiece: BLIP's pre_caption, Salesforce's retrieval code), "openai" or
	// "hf" (CLIP BPE: OpenAI's ftfy and HTML unescaping, the default, or the Hugging Face
	// tokenizer's NFC only) or "siglip" (SentencePiece: SigLIP's canonicalize_text).
	Clean string `json:"clean,omitempty"`
	// PadToken is the padding token of an hf-tokenizer-json tokenizer (tokenizer_config.json's
	// pad_token; absent: the file's own padding section). special_ids.pad must be its id.
	PadToken string `json:"pad_token,omitempty"`
}

// Graph names one ONNX graph file and its input and output names.
type Graph struct {
	File    string   `json:"file"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	// Names maps a contract name of Inputs or Outputs to the graph's own tensor name, for graphs
	// published with other names (immich's CLIP exports: "image" -> "embedding"). Absent: the
	// graph uses the contract's names.
	Names map[string]string `json:"names,omitempty"`
	// Batch is the graph's fixed batch size (graphs exported without a dynamic batch axis, such
	// as immich's, take 1); the runtime runs at most that many items at once. 0: any.
	Batch int `json:"batch,omitempty"`
}

// TensorName is the graph's name of a contract input or output (Names, else the contract's).
func (g *Graph) TensorName(contractName string) string {
	if n := g.Names[contractName]; n != "" {
		return n
	}
	return contractName
}

// Dims are the token dimensions shared by the vision, text and ITM graphs.
type Dims struct {
	ImageTokens int `json:"image_tokens"` // N: CLS + PatchGrid² patches
	TokenWidth  int `json:"token_width"`  // C
	PatchGrid   int `json:"patch_grid"`
}

// Scores says how scores are formed. The runtime reads Rank and MatchThreshold; ITM and ITC
// are descriptions.
type Scores struct {
	ITM            string   `json:"itm"`
	ITC            string   `json:"itc"`
	Rank           string   `json:"rank"` // one of ITMRanks (default RankITM); RankITC without an ITM graph
	MatchThreshold *float64 `json:"match_threshold"`
}

// The scores.rank formulas: how a search orders the candidates the ITM head reranked. Whichever
// orders them, p_match = softmax(itm_logits)[1] is the score results report and the match
// threshold applies to. p_match = sigmoid(l1 - l0) is not monotone in the match logit l1, so
// the probability and logit formulas give different orders.
const (
	RankITM         = "itm"           // p_match (Glimpse's default)
	RankITMITC      = "itm+itc"       // p_match + the ITC cosine
	RankITMLogit    = "itm_logit"     // itm_logits[1], the raw match logit (mPLUG's and ALBEF's evaluation)
	RankITMLogitITC = "itm_logit+itc" // itm_logits[1] + the ITC cosine (BLIP's evaluation)
	RankITC         = "itc"           // the ITC cosine alone: what a dual encoder (no itm graph) declares
)

// ITMRanks are the scores.rank formulas of a model with an ITM head.
var ITMRanks = []string{RankITM, RankITMITC, RankITMLogit, RankITMLogitITC}

// Tolerance is what verify-model accepts; zero fields take the Default constants.
type Tolerance struct {
	PixelAbs     float64 `json:"pixel_abs"`      // preprocessed pixels of lossless golden images (absolute)
	PixelAbsJPEG float64 `json:"pixel_abs_jpeg"` // preprocessed pixels of JPEG golden images (absolute)
	EmbedCosine  float64 `json:"embed_cosine"`   // image_embeds and text_embeds (minimum cosine)
	ITMLogitAbs  float64 `json:"itm_logit_abs"`  // itm_logits (absolute)
	PMatchAbs    float64 `json:"p_match_abs"`    // softmax(itm_logits)[1] (absolute)
	// CrossAttentionAbs: the text CLS row of the cross-attention summed over the image tokens
	// (absolute).
	CrossAttentionAbs float64 `json:"cross_attention_abs,omitempty"`
}

// graphContract is what one graph must take and give: the required inputs, the optional ones,
// and the required and optional outputs.
type graphContract struct{ in, optIn, out, optOut []string }

// contract lists the graphs of a model with an ITM head.
var contract = map[string]graphContract{
	GraphVision: {in: []string{InPixelValues}, out: []string{OutImageEmbeds, OutImageTokens}},
	GraphText:   {in: []string{InInputIDs, InAttentionMask}, out: []string{OutTextEmbeds, OutTextStates}},
	GraphITM: {in: []string{OutImageTokens, OutTextStates, InAttentionMask}, out: []string{OutITMLogits},
		optOut: []string{OutCrossAttention}},
}

// dualContract lists the graphs of a dual encoder (no itm graph): nothing needs the image
// tokens or the text states, and a text graph that pools at the end-of-text token (CLIP) may
// take no attention mask.
var dualContract = map[string]graphContract{
	GraphVision: {in: []string{InPixelValues}, out: []string{OutImageEmbeds}, optOut: []string{OutImageTokens}},
	GraphText: {in: []string{InInputIDs}, optIn: []string{InAttentionMask}, out: []string{OutTextEmbeds},
		optOut: []string{OutTextStates}},
}

// contractOf is the contract of the manifest's graphs.
func (m *Manifest) contractOf() map[string]graphContract {
	if m.HasITM() {
		return contract
	}
	return dualContract
}

// ParseManifest decodes and validates model.json. It checks the manifest on its own (fields,
// values, names); that the files exist, match their hashes and that the graphs agree is checked
// by [Open]. Errors wrap [ErrBadBundle] and name the offending field.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: model.json: %v", ErrBadBundle, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: model.json: %v", ErrBadBundle, err)
	}
	m.setDefaults()
	return &m, nil
}

// HasITM reports whether the manifest declares an ITM graph.
func (m *Manifest) HasITM() bool { return m.Graphs[GraphITM] != nil }

// MatchThreshold returns scores.match_threshold or DefaultMatchThreshold.
func (m *Manifest) MatchThreshold() float64 {
	if m.Scores.MatchThreshold == nil {
		return DefaultMatchThreshold
	}
	return *m.Scores.MatchThreshold
}

func (m *Manifest) setDefaults() {
	t := &m.Tolerance
	orDefault(&t.PixelAbs, DefaultPixelAbs)
	orDefault(&t.PixelAbsJPEG, DefaultPixelAbsJPEG)
	orDefault(&t.EmbedCosine, DefaultEmbedCosine)
	orDefault(&t.ITMLogitAbs, DefaultITMLogitAbs)
	orDefault(&t.CrossAttentionAbs, DefaultCrossAttentionAbs)
	orDefault(&t.PMatchAbs, DefaultPMatchAbs)
	if m.Precision == "" {
		m.Precision = PrecisionFP32
	}
	if m.Scores.Rank == "" {
		m.Scores.Rank = RankITM
		if !m.HasITM() {
			m.Scores.Rank = RankITC
		}
	}
	if m.Image.AlphaBackground == nil {
		m.Image.AlphaBackground = []int{255, 255, 255}
	}
}

func orDefault(v *float64, def float64) {
	if *v == 0 {
		*v = def
	}
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("field %s: %s", field, fmt.Sprintf(format, args...))
}

func (m *Manifest) validate() error {
	switch {
	case m.SchemaVersion != SchemaVersion:
		return fieldErr("schema_version", "want %d, got %d", SchemaVersion, m.SchemaVersion)
	case strings.TrimSpace(m.Name) == "":
		return fieldErr("name", "missing")
	case !slices.Contains(families, m.Family):
		return fieldErr("family", "%q is not one of %s", m.Family, strings.Join(families, ", "))
	case m.EmbeddingDim <= 0:
		return fieldErr("embedding_dim", "must be > 0, got %d", m.EmbeddingDim)
	}
	if err := m.Image.validate(); err != nil {
		return err
	}
	if err := m.Text.validate(); err != nil {
		return err
	}
	if err := m.validateGraphs(); err != nil {
		return err
	}
	d := m.Dims
	switch {
	case d.ImageTokens <= 0:
		return fieldErr("dims.image_tokens", "must be > 0, got %d", d.ImageTokens)
	case d.TokenWidth <= 0:
		return fieldErr("dims.token_width", "must be > 0, got %d", d.TokenWidth)
	case d.PatchGrid < 0 || d.PatchGrid > 0 && d.PatchGrid*d.PatchGrid+1 != d.ImageTokens:
		return fieldErr("dims.patch_grid", "%d² + 1 (CLS) != dims.image_tokens %d", d.PatchGrid, d.ImageTokens)
	}
	if err := m.Tolerance.validate(); err != nil {
		return err
	}
	if p := m.Precision; p != "" && p != PrecisionFP32 && p != PrecisionInt8 && p != PrecisionFP16 {
		return fieldErr("precision", "%q: want %s, %s or %s", p, PrecisionFP32, PrecisionInt8, PrecisionFP16)
	}
	if err := m.validateRank(); err != nil {
		return err
	}
	if th := m.Scores.MatchThreshold; th != nil && (*th < 0 || *th > 1) {
		return fieldErr("scores.match_threshold", "must be in [0,1], got %g", *th)
	}
	if m.Files == nil {
		return fieldErr("files", "missing")
	}
	for p, sum := range m.Files {
		if err := checkBundlePath(p); err != nil {
			return fieldErr("files", "%v", err)
		}
		if len(sum) != 64 || strings.Trim(strings.ToLower(sum), "0123456789abcdef") != "" {
			return fieldErr("files", "%s: sha256 %q is not 64 hex digits", p, sum)
		}
	}
	if m.Golden != "" {
		if err := checkBundlePath(m.Golden); err != nil {
			return fieldErr("golden", "%v", err)
		}
	}
	return nil
}

func (t *Tolerance) validate() error {
	if !(t.EmbedCosine >= 0 && t.EmbedCosine <= 1) {
		return fieldErr("tolerance.embed_cosine", "must be in [0,1], got %g", t.EmbedCosine)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"pixel_abs", t.PixelAbs}, {"pixel_abs_jpeg", t.PixelAbsJPEG}, {"itm_logit_abs", t.ITMLogitAbs},
		{"p_match_abs", t.PMatchAbs}, {"cross_attention_abs", t.CrossAttentionAbs}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return fieldErr("tolerance."+f.name, "must be a number >= 0, got %g", f.v)
		}
	}
	return nil
}

// validateRank accepts an empty scores.rank (the default) or one of ITMRanks for a model with
// an ITM head. A dual encoder ranks by ITC whatever the field says (it should say RankITC), so
// its value is not checked.
func (m *Manifest) validateRank() error {
	r := m.Scores.Rank
	switch {
	case r == "" || slices.Contains(ITMRanks, r) || !m.HasITM():
		return nil
	case r == RankITC:
		return fieldErr("scores.rank", "%q is for a model without an itm graph; this one has one: want one of %s",
			r, strings.Join(ITMRanks, ", "))
	}
	return fieldErr("scores.rank", "%q is not one of %s", r, strings.Join(ITMRanks, ", "))
}

func (s *ImageSpec) validate() error {
	switch {
	case s.Size <= 0:
		return fieldErr("image.size", "must be > 0, got %d", s.Size)
	case s.Size > 4096:
		return fieldErr("image.size", "%d is implausibly large (max 4096)", s.Size)
	case s.Resize != ResizeSquash && s.Resize != ResizeCenterCrop:
		return fieldErr("image.resize", "%q is not %s or %s", s.Resize, ResizeSquash, ResizeCenterCrop)
	case s.Interpolation != "bicubic":
		return fieldErr("image.interpolation", "%q is not bicubic", s.Interpolation)
	case len(s.Mean) != 3:
		return fieldErr("image.mean", "want 3 values, got %d", len(s.Mean))
	case len(s.Std) != 3:
		return fieldErr("image.std", "want 3 values, got %d", len(s.Std))
	}
	for i, v := range s.Std {
		if !(v > 0) {
			return fieldErr("image.std", "value %d is %g, must be > 0", i, v)
		}
	}
	if s.AlphaBackground != nil {
		if len(s.AlphaBackground) != 3 {
			return fieldErr("image.alpha_background", "want 3 values, got %d", len(s.AlphaBackground))
		}
		for _, v := range s.AlphaBackground {
			if v < 0 || v > 255 {
				return fieldErr("image.alpha_background", "value %d outside 0..255", v)
			}
		}
	}
	switch s.Alpha {
	case "", AlphaComposite, AlphaDrop, AlphaDropAfterResize:
	default:
		return fieldErr("image.alpha", "%q is not %s, %s or %s", s.Alpha, AlphaComposite, AlphaDrop, AlphaDropAfterResize)
	}
	switch s.CropRounding {
	case "", CropHalfEven, CropFloor:
	default:
		return fieldErr("image.crop_rounding", "%q is not %s or %s", s.CropRounding, CropHalfEven, CropFloor)
	}
	return nil
}

// tokenizerFile and tokenizerIDs: the file key and special ids each tokenizer needs.
var (
	tokenizerFile = map[string]string{TokenizerWordPiece: "vocab", TokenizerBPE: "merges", TokenizerUnigram: "model",
		TokenizerHFJSON: "tokenizer"}
	tokenizerIDs = map[string][]string{
		TokenizerWordPiece: {"cls", "sep", "pad", "unk"},
		TokenizerBPE:       {"start", "end", "pad"},
		TokenizerUnigram:   {"eos", "pad", "unk"},
		TokenizerHFJSON:    {"pad"},
	}
	tokenizerCleans = map[string][]string{
		TokenizerWordPiece: {tokenizer.CleanBLIPCaption},
		TokenizerBPE:       {tokenizer.CleanOpenAI, tokenizer.CleanHF},
		TokenizerUnigram:   {tokenizer.CanonicalizeSigLIP},
	}
)

func (s *TextSpec) validate() error {
	key, ok := tokenizerFile[s.Tokenizer]
	if !ok {
		return fieldErr("text.tokenizer", "%q is not %s, %s, %s or %s", s.Tokenizer, TokenizerWordPiece, TokenizerBPE,
			TokenizerUnigram, TokenizerHFJSON)
	}
	if c := s.Clean; c != "" && !slices.Contains(tokenizerCleans[s.Tokenizer], c) {
		return fieldErr("text.clean", "%q is not one of %s for %s", c, strings.Join(tokenizerCleans[s.Tokenizer], ", "),
			s.Tokenizer)
	}
	f := s.Files[key]
	if f == "" {
		return fieldErr("text.files."+key, "missing (needed by %s)", s.Tokenizer)
	}
	if err := checkBundlePath(f); err != nil {
		return fieldErr("text.files."+key, "%v", err)
	}
	if s.MaxLength <= 2 || s.MaxLength > 4096 {
		return fieldErr("text.max_length", "must be in 3..4096, got %d", s.MaxLength)
	}
	if s.PadToken != "" && s.Tokenizer != TokenizerHFJSON {
		return fieldErr("text.pad_token", "only for %s", TokenizerHFJSON)
	}
	if s.Tokenizer != TokenizerBPE && s.Tokenizer != TokenizerHFJSON && s.LowerCase == nil {
		return fieldErr("text.lower_case", "missing")
	}
	for _, k := range tokenizerIDs[s.Tokenizer] {
		id, ok := s.SpecialIDs[k]
		if !ok {
			return fieldErr("text.special_ids."+k, "missing (needed by %s)", s.Tokenizer)
		}
		if id < 0 {
			return fieldErr("text.special_ids."+k, "negative id %d", id)
		}
	}
	return nil
}

func (m *Manifest) validateGraphs() error {
	for name := range m.Graphs {
		if _, ok := contract[name]; !ok {
			return fieldErr("graphs."+name, "unknown graph (want vision, text, itm)")
		}
	}
	for _, name := range []string{GraphVision, GraphText, GraphITM} {
		g, ok := m.Graphs[name]
		if !ok && name == GraphITM {
			continue // a dual encoder
		}
		if g == nil {
			return fieldErr("graphs."+name, "missing")
		}
		if g.File == "" {
			return fieldErr("graphs."+name+".file", "missing")
		}
		if err := checkBundlePath(g.File); err != nil {
			return fieldErr("graphs."+name+".file", "%v", err)
		}
		c := m.contractOf()[name]
		if !sameNames(g.Inputs, c.in, c.optIn) {
			if len(c.optIn) > 0 {
				return fieldErr("graphs."+name+".inputs", "%q, want %q and optionally %q", g.Inputs, c.in, c.optIn)
			}
			return fieldErr("graphs."+name+".inputs", "%q, want %q", g.Inputs, c.in)
		}
		if !sameNames(g.Outputs, c.out, c.optOut) {
			if len(c.optOut) > 0 {
				return fieldErr("graphs."+name+".outputs", "%q, want %q and optionally %q", g.Outputs, c.out, c.optOut)
			}
			return fieldErr("graphs."+name+".outputs", "%q, want %q", g.Outputs, c.out)
		}
		seen := map[string]bool{}
		for k, v := range g.Names {
			if !slices.Contains(g.Inputs, k) && !slices.Contains(g.Outputs, k) {
				return fieldErr("graphs."+name+".names", "%q is not one of the graph's inputs or outputs", k)
			}
			if v == "" || seen[v] {
				return fieldErr("graphs."+name+".names", "%q: empty or repeated tensor name %q", k, v)
			}
			seen[v] = true
		}
		if g.Batch < 0 {
			return fieldErr("graphs."+name+".batch", "%d: want a fixed batch size, or 0 for any", g.Batch)
		}
	}
	return nil
}

// sameNames reports whether got holds every name of want, optionally names of opt, and nothing
// else, each at most once.
func sameNames(got, want, opt []string) bool {
	seen := map[string]bool{}
	for _, n := range got {
		if seen[n] || !slices.Contains(want, n) && !slices.Contains(opt, n) {
			return false
		}
		seen[n] = true
	}
	for _, n := range want {
		if !seen[n] {
			return false
		}
	}
	return true
}

// checkBundlePath rejects paths that could leave the bundle: absolute, "..", or unclean.
func checkBundlePath(p string) error {
	if p == "" || !fsValidPath(p) {
		return fmt.Errorf("path %q is not a clean relative path inside the bundle", p)
	}
	return nil
}

func fsValidPath(p string) bool {
	return fs.ValidPath(p) && p != "." && !strings.Contains(p, "\\")
}
