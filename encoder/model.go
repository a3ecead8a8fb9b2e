package encoder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/glimpse-search/glimpse/encoder/tokenizer"
)

// DefaultMaxBatch is Options.MaxBatch when zero.
const DefaultMaxBatch = 32

// Options configures [Open]. The zero value is ready to use.
type Options struct {
	// LibraryPath is the ONNX Runtime shared library. Empty: [FindLibrary]'s search. The
	// runtime is loaded once per process, so only the first successful Open's value counts.
	LibraryPath string
	// Device is DeviceCPU ("cpu", the default when empty) or DeviceCUDA ("cuda"). When the CUDA
	// execution provider cannot be used (no GPU, no CUDA provider library) the model runs on
	// the CPU and a warning is logged; Open does not fail.
	Device string
	// IntraOpThreads is the number of threads each graph uses for one run. 0 (default) lets ONNX
	// Runtime choose: one per physical core. Lower it when several runs go on in parallel.
	IntraOpThreads int
	// Spin lets the intra-op threads busy-wait for work after a run. Default false: they sleep,
	// leaving the cores to the rest of a query (ANN search, file reads) and to other processes;
	// with spinning, a search's non-model stages measured up to 10 ms slower at p99 on 2 cores
	// (`make bench-query`), for a little throughput on back-to-back runs of an idle machine.
	Spin bool
	// MaxBatch is the most images, texts or pairs given to one graph run (default
	// DefaultMaxBatch = 32); larger calls are split. Bigger batches cost memory
	// (MaxBatch x N x C floats for image tokens) for little speed on CPUs.
	MaxBatch int
	// Image configures decoding (pixel and byte caps) for [Model.Preprocessor].
	Image ImageOptions
	// Logger receives warnings (the CUDA fallback). Nil: silent.
	Logger *slog.Logger
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o Options) withDefaults() (Options, error) {
	switch o.Device {
	case "":
		o.Device = DeviceCPU
	case DeviceCPU, DeviceCUDA:
	default:
		return o, fmt.Errorf("%w: device %q is not %s or %s", ErrInput, o.Device, DeviceCPU, DeviceCUDA)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.IntraOpThreads < 0 {
		o.IntraOpThreads = 0
	}
	return o, nil
}

// Model is a loaded bundle: its manifest, tokenizer, preprocessing and encoders. Vision and Text
// are always set; ITM is nil for dual encoders (see HasITM). A Model is safe for concurrent use
// by multiple goroutines; Close it when done.
type Model struct {
	Manifest *Manifest
	Vision   *Vision
	Text     *Text
	ITM      *ITM // nil when the bundle has no itm graph

	pre *Preprocessor
}

// HasITM reports whether the model has an image-text-matching head.
func (m *Model) HasITM() bool { return m.ITM != nil }

// Preprocessor returns the model's image preprocessing (usable without ONNX Runtime).
func (m *Model) Preprocessor() *Preprocessor { return m.pre }

// Close releases the ONNX Runtime sessions. The model must not be used afterwards.
func (m *Model) Close() error {
	var errs []error
	if m.Vision != nil {
		errs = append(errs, m.Vision.s.close())
	}
	if m.Text != nil {
		errs = append(errs, m.Text.s.close())
	}
	if m.ITM != nil {
		errs = append(errs, m.ITM.s.close())
	}
	return errors.Join(errs...)
}

// Bundle is a read and verified bundle before any graph is loaded: the manifest and the verified
// contents of the files it names. [LoadBundle] needs no ONNX Runtime.
type Bundle struct {
	Manifest *Manifest
	FS       fs.FS
	files    map[string][]byte // verified contents of the files Open needs
}

// LoadBundle reads model.json from fsys, validates it, checks that every file listed in
// `files` exists and matches its sha256, and that every graph, tokenizer and golden file the
// manifest names is listed. Errors wrap [ErrBadBundle] and name the field or file.
func LoadBundle(fsys fs.FS) (*Bundle, error) {
	raw, err := fs.ReadFile(fsys, "model.json")
	if err != nil {
		return nil, fmt.Errorf("%w: read model.json: %v", ErrBadBundle, err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Manifest: m, FS: fsys, files: map[string][]byte{}}
	for p, want := range m.Files {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("%w: file %s (listed in files): %v", ErrBadBundle, p, err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != strings.ToLower(want) {
			return nil, fmt.Errorf("%w: file %s: sha256 %s, manifest says %s", ErrBadBundle, p, got, want)
		}
		if !strings.HasPrefix(p, "golden/") { // golden images are read on demand by Verify
			b.files[p] = data
		}
	}
	need := map[string]string{}
	for name, g := range m.Graphs {
		need[g.File] = "graphs." + name + ".file"
	}
	for k, f := range m.Text.Files {
		need[f] = "text.files." + k
	}
	if m.Golden != "" {
		need[m.Golden] = "golden"
	}
	for f, field := range need {
		if _, ok := m.Files[f]; !ok {
			if _, err := fs.Stat(fsys, f); err != nil {
				return nil, fmt.Errorf("%w: %s: file %s: %v", ErrBadBundle, field, f, err)
			}
			return nil, fmt.Errorf("%w: %s: file %s is not listed (with its sha256) in files", ErrBadBundle, field, f)
		}
	}
	return b, nil
}

// File returns the verified contents of a bundle file listed in the manifest (not the golden
// images, which are read from FS).
func (b *Bundle) File(p string) ([]byte, bool) {
	d, ok := b.files[p]
	return d, ok
}

// NewTokenizer builds the tokenizer the manifest names from its files and checks that its
// special ids agree with text.special_ids.
func (b *Bundle) NewTokenizer() (tokenizer.Tokenizer, error) {
	t := b.Manifest.Text
	switch t.Tokenizer {
	case TokenizerWordPiece:
		f := t.Files["vocab"]
		tok, err := tokenizer.NewWordPiece(bytes.NewReader(b.files[f]), tokenizer.WordPieceOptions{
			MaxLen: t.MaxLength, Cased: !*t.LowerCase, Clean: t.Clean})
		if err != nil {
			return nil, fmt.Errorf("%w: text.files.vocab %s: %v", ErrBadBundle, f, err)
		}
		cls, sep, pad, unk := tok.SpecialIDs()
		got := map[string]int64{"cls": cls, "sep": sep, "pad": pad, "unk": unk}
		if err := checkSpecial(got, t.SpecialIDs, f); err != nil {
			return nil, err
		}
		return tok, nil
	case TokenizerBPE:
		f := t.Files["merges"]
		pad := t.SpecialIDs["pad"] // the padding id is the manifest's: OpenAI's 0, Hugging Face's <|endoftext|>
		if pad < 0 || pad >= tokenizer.CLIPVocabSize {
			return nil, fmt.Errorf("%w: text.special_ids.pad %d is outside CLIP's vocabulary", ErrBadBundle, pad)
		}
		tok, err := tokenizer.NewBPE(bytes.NewReader(b.files[f]), tokenizer.BPEOptions{ContextLength: t.MaxLength,
			Clean: t.Clean, Pad: int32(pad)})
		if err != nil {
			return nil, fmt.Errorf("%w: text.files.merges %s: %v", ErrBadBundle, f, err)
		}
		sot, eot, _ := tok.SpecialIDs()
		if err := checkSpecial(map[string]int64{"start": sot, "end": eot}, t.SpecialIDs, f); err != nil {
			return nil, err
		}
		return tok, nil
	case TokenizerHFJSON:
		f := t.Files["tokenizer"]
		tok, err := tokenizer.NewHFJSON(bytes.NewReader(b.files[f]), tokenizer.HFOptions{MaxLen: t.MaxLength,
			PadToken: t.PadToken})
		if err != nil {
			return nil, fmt.Errorf("%w: text.files.tokenizer %s: %v", ErrBadBundle, f, err)
		}
		if err := checkSpecial(map[string]int64{"pad": tok.PadID()}, t.SpecialIDs, f); err != nil {
			return nil, err
		}
		return tok, nil
	case TokenizerUnigram:
		f := t.Files["model"]
		tok, err := tokenizer.NewUnigram(b.files[f], tokenizer.UnigramOptions{MaxLen: t.MaxLength,
			Cased: !*t.LowerCase, Canonicalize: t.Clean})
		if err != nil {
			return nil, fmt.Errorf("%w: text.files.model %s: %v", ErrBadBundle, f, err)
		}
		eos, pad, unk := tok.SpecialIDs()
		if err := checkSpecial(map[string]int64{"eos": eos, "pad": pad, "unk": unk}, t.SpecialIDs, f); err != nil {
			return nil, err
		}
		return tok, nil
	}
	return nil, fmt.Errorf("%w: text.tokenizer %q", ErrBadBundle, t.Tokenizer) // unreachable after ParseManifest
}

func checkSpecial(got, want map[string]int64, file string) error {
	for k, g := range got {
		if w := want[k]; w != g {
			return fmt.Errorf("%w: text.special_ids.%s: manifest says %d, tokenizer file %s gives %d",
				ErrBadBundle, k, w, file, g)
		}
	}
	return nil
}

// Open loads and verifies the bundle in fsys (the embedded default, models.Default(), or
// os.DirFS(dir)), initialises ONNX Runtime (once per process) and creates one session per graph,
// checking each graph's inputs, outputs and fixed dimensions against the manifest.
func Open(fsys fs.FS, opts Options) (*Model, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	b, err := LoadBundle(fsys)
	if err != nil {
		return nil, err
	}
	return b.Open(opts)
}

// Open creates the model's sessions from a loaded bundle; see the package-level [Open].
func (b *Bundle) Open(opts Options) (*Model, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m := b.Manifest
	tok, err := b.NewTokenizer()
	if err != nil {
		return nil, err
	}
	pre, err := NewPreprocessor(m.Image, opts.Image)
	if err != nil {
		return nil, err
	}
	if err := initRuntime(opts.LibraryPath); err != nil {
		return nil, err
	}
	so, err := sessionOptions(&opts)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()

	model := &Model{Manifest: m, pre: pre}
	ok := false
	defer func() {
		if !ok {
			model.Close()
		}
	}()
	p := newPorts(m)
	open := func(graph string) (*session, error) {
		g := m.Graphs[graph]
		in, out := of(p.in[graph], g.Inputs, g), of(p.out[graph], g.Outputs, g)
		return newSession(graph, g.File, b.files[g.File], g.Batch, in, out, so)
	}
	vs, err := open(GraphVision)
	if err != nil {
		return nil, err
	}
	batch := func(graph string) int {
		if fixed := m.Graphs[graph].Batch; fixed > 0 {
			return min(fixed, opts.MaxBatch)
		}
		return opts.MaxBatch
	}
	model.Vision = &Vision{s: vs, pre: pre, dim: m.EmbeddingDim, tokens: m.Dims.ImageTokens,
		width: m.Dims.TokenWidth, size: m.Image.Size, maxBatch: batch(GraphVision), hasTokens: vs.has(OutImageTokens)}
	ts, err := open(GraphText)
	if err != nil {
		return nil, err
	}
	model.Text = &Text{s: ts, tok: tok, dim: m.EmbeddingDim, width: m.Dims.TokenWidth,
		maxLen: m.Text.MaxLength, maxBatch: batch(GraphText), hasStates: ts.has(OutTextStates)}
	if m.HasITM() {
		is, err := open(GraphITM)
		if err != nil {
			return nil, err
		}
		model.ITM = &ITM{s: is, tokens: m.Dims.ImageTokens, width: m.Dims.TokenWidth,
			maxLen: m.Text.MaxLength, maxBatch: batch(GraphITM),
			hasCross: is.has(OutCrossAttention)}
	}
	ok = true
	return model, nil
}

// ports lists the contract's tensors for a manifest.
type ports struct {
	in  map[string][]port
	out map[string][]port
}

func newPorts(m *Manifest) ports {
	const (
		f32 = ort.TensorElementDataTypeFloat
		i64 = ort.TensorElementDataTypeInt64
	)
	b := dim{0, "batch"}
	s := dim{int64(m.Image.Size), "image.size"}
	d := dim{int64(m.EmbeddingDim), "embedding_dim"}
	n := dim{int64(m.Dims.ImageTokens), "dims.image_tokens"}
	c := dim{int64(m.Dims.TokenWidth), "dims.token_width"}
	l := dim{int64(m.Text.MaxLength), "text.max_length"}
	ids := func(name string) port { return port{name: name, dtype: i64, int32OK: true, dims: []dim{b, l}} }
	return ports{
		in: map[string][]port{
			GraphVision: {{name: InPixelValues, dtype: f32, dims: []dim{b, {3, "channels"}, s, s}}},
			GraphText:   {ids(InInputIDs), ids(InAttentionMask)},
			GraphITM: {{name: OutImageTokens, dtype: f32, dims: []dim{b, n, c}},
				{name: OutTextStates, dtype: f32, dims: []dim{b, l, c}}, {name: InAttentionMask, dtype: i64, dims: []dim{b, l}}},
		},
		out: map[string][]port{
			GraphVision: {{name: OutImageEmbeds, dtype: f32, dims: []dim{b, d}}, {name: OutImageTokens, dtype: f32, dims: []dim{b, n, c}}},
			GraphText:   {{name: OutTextEmbeds, dtype: f32, dims: []dim{b, d}}, {name: OutTextStates, dtype: f32, dims: []dim{b, l, c}}},
			GraphITM: {{name: OutITMLogits, dtype: f32, dims: []dim{b, {2, "itm_logits width"}}},
				{name: OutCrossAttention, dtype: f32, dims: []dim{b, l, n}}},
		},
	}
}

// of returns the graph's ports in contract order, leaving out those the manifest does not list
// (optional ones), each with the graph's own tensor name (Graph.Names).
func of(want []port, listed []string, g *Graph) []port {
	var out []port
	for _, p := range want {
		if slices.Contains(listed, p.name) {
			p.tensor = g.TensorName(p.name)
			out = append(out, p)
		}
	}
	return out
}
