package scene

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Limits on Options values.
const (
	MaxN    = 1_000_000
	MinSize = 32
	MaxSize = 2048
)

// Options configures Generate. Zero values select the documented defaults.
type Options struct {
	// N is the number of scenes (required, 1..MaxN). With Twins, 2N images
	// are written.
	N int
	// Seed selects the dataset; scene i depends only on (Seed, Start+i).
	Seed uint64
	// Out is the output directory (required). Images go to Out/images and
	// the captions to Out/captions.json.
	Out string
	// Size is the image side in pixels, MinSize..MaxSize. Default 256.
	Size int
	// Format is "png" or "jpeg". Default "png".
	Format string
	// Twins writes a twin for every scene (files ...a and ...b).
	Twins bool
	// Split is the Karpathy split name. Default "test".
	Split string
	// Negatives is the number of hard negatives per image. 0 means the
	// default (DefaultNegatives); a negative value means none.
	Negatives int
	// Start is the first scene index, used in filenames and seeding.
	// Default 0.
	Start int
	// Workers is the number of render workers. Default runtime.NumCPU().
	// The output is byte-identical for any worker count.
	Workers int
	// Captions is the caption style of single-object scenes. Default
	// StyleShort. StyleBoth gives those scenes 2*NumCaptions sentences and up
	// to twice the negatives, so their captions outweigh the others in
	// training. Scenes, images and filenames are the same in every style; only
	// the sentences and negatives of single-object scenes differ.
	Captions Style
}

func (o Options) withDefaults() Options {
	if o.Size == 0 {
		o.Size = 256
	}
	if o.Format == "" {
		o.Format = "png"
	}
	if o.Split == "" {
		o.Split = "test"
	}
	switch {
	case o.Negatives == 0:
		o.Negatives = DefaultNegatives
	case o.Negatives < 0:
		o.Negatives = 0
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Captions == "" {
		o.Captions = StyleShort
	}
	return o
}

// Validate reports the first invalid option, naming it.
func (o Options) Validate() error {
	switch {
	case o.N < 1 || o.N > MaxN:
		return fmt.Errorf("n must be in 1..%d, got %d", MaxN, o.N)
	case o.Out == "":
		return errors.New("out directory is required")
	case o.Size != 0 && (o.Size < MinSize || o.Size > MaxSize):
		return fmt.Errorf("size must be in %d..%d, got %d", MinSize, MaxSize, o.Size)
	case o.Format != "" && o.Format != "png" && o.Format != "jpeg":
		return fmt.Errorf("format must be png or jpeg, got %q", o.Format)
	case o.Start < 0:
		return fmt.Errorf("start must be >= 0, got %d", o.Start)
	case o.Captions != "" && !o.Captions.Valid():
		return fmt.Errorf("captions must be short, full or both, got %q", o.Captions)
	}
	return nil
}

// Sentence is one Karpathy-style caption.
type Sentence struct {
	Raw    string   `json:"raw"`
	Tokens []string `json:"tokens"`
}

// ImageRecord is one entry of captions.json.
type ImageRecord struct {
	Filename  string     `json:"filename"`
	ImgID     int        `json:"imgid"`
	Split     string     `json:"split"`
	Sentences []Sentence `json:"sentences"`
	Scene     Scene      `json:"scene"`
	Negatives []Negative `json:"negatives"`
	Twin      string     `json:"twin,omitempty"`
	TwinKind  string     `json:"twin_kind,omitempty"`
}

// Dataset is the whole captions.json document.
type Dataset struct {
	Dataset string        `json:"dataset"`
	Seed    uint64        `json:"seed"`
	Size    int           `json:"size"`
	Images  []ImageRecord `json:"images"`
}

// Records builds the captions.json records for scene index (without
// rendering) in the short caption style. With twins it returns the a/b pair,
// otherwise one record.
func Records(seed uint64, index int, twins bool, negatives int, split, ext string) ([]ImageRecord, []Scene) {
	return styledRecords(seed, index, twins, negatives, split, ext, StyleShort)
}

// styledRecords is Records with captions and negatives in style st.
func styledRecords(seed uint64, index int, twins bool, negatives int, split, ext string, st Style) ([]ImageRecord, []Scene) {
	if !twins {
		s := NewScene(seed, index)
		r := record(s, fmt.Sprintf("scene_%06d.%s", index, ext), split,
			NewRNG(seed, index, streamCaptions), NewRNG(seed, index, streamNegatives), negatives, st)
		r.ImgID = index
		return []ImageRecord{r}, []Scene{s}
	}
	s, t, kind := NewTwinScene(seed, index)
	na, nb := fmt.Sprintf("scene_%06da.%s", index, ext), fmt.Sprintf("scene_%06db.%s", index, ext)
	a := record(s, na, split, NewRNG(seed, index, streamCaptions), NewRNG(seed, index, streamNegatives), negatives, st)
	b := record(t, nb, split, NewRNG(seed, index, streamTwinCaps), NewRNG(seed, index, streamTwinNegs), negatives, st)
	a.ImgID, b.ImgID = 2*index, 2*index+1
	a.Twin, b.Twin = nb, na
	a.TwinKind, b.TwinKind = kind, kind
	return []ImageRecord{a, b}, []Scene{s, t}
}

func record(s Scene, name, split string, capRNG, negRNG *rand.Rand, k int, st Style) ImageRecord {
	r := ImageRecord{Filename: name, Split: split, Scene: s, Negatives: []Negative{}}
	for _, c := range styledCaptions(s, capRNG, st) {
		r.Sentences = append(r.Sentences, Sentence{Raw: c, Tokens: Tokens(c)})
	}
	if k > 0 {
		r.Negatives = styledNegatives(s, k, negRNG, st)
	}
	return r
}

type job struct {
	index int
	recs  []byte
	err   error
	done  chan struct{}
}

// Generate writes the dataset described by opts. Images are rendered and
// encoded by a worker pool; captions.json is streamed in index order to a
// temporary file and renamed into place.
func Generate(ctx context.Context, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	imgDir := filepath.Join(opts.Out, "images")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return fmt.Errorf("create image dir: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Jobs are queued in order; each carries a done channel so that the
	// writer consumes results in order while workers run ahead, bounded by
	// the queue capacity.
	work := make(chan *job, 4*opts.Workers)
	ordered := make(chan *job, 4*opts.Workers)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				j.recs, j.err = renderScene(ctx, opts, imgDir, j.index)
				close(j.done)
			}
		}()
	}
	go func() {
		defer close(work)
		defer close(ordered)
		for i := range opts.N {
			j := &job{index: opts.Start + i, done: make(chan struct{})}
			select {
			case ordered <- j:
			case <-ctx.Done():
				return
			}
			work <- j
		}
	}()
	err := writeCaptions(ctx, opts, ordered)
	cancel()
	for range ordered { // drain so the feeder can exit
	}
	wg.Wait()
	return err
}

func writeCaptions(ctx context.Context, opts Options, ordered <-chan *job) error {
	final := filepath.Join(opts.Out, "captions.json")
	tmp, err := os.CreateTemp(opts.Out, ".captions-*.json")
	if err != nil {
		return fmt.Errorf("create temp captions: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	w := bufio.NewWriterSize(tmp, 1<<20)
	fmt.Fprintf(w, "{\"dataset\":\"scenes\",\"seed\":%d,\"size\":%d,\"images\":[\n", opts.Seed, opts.Size)
	first := true
	for j := range ordered {
		select {
		case <-j.done:
		case <-ctx.Done():
			tmp.Close()
			return fmt.Errorf("generate: %w", ctx.Err())
		}
		if j.err != nil {
			tmp.Close()
			return fmt.Errorf("scene %d: %w", j.index, j.err)
		}
		if !first {
			w.WriteString(",\n")
		}
		first = false
		w.Write(j.recs)
	}
	w.WriteString("\n]}\n")
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write captions: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close captions: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("rename captions: %w", err)
	}
	return nil
}

// renderScene renders, encodes and writes the image(s) of one scene and
// returns its JSON records joined by ",\n".
func renderScene(ctx context.Context, opts Options, imgDir string, index int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ext := opts.Format
	if ext == "jpeg" {
		ext = "jpg"
	}
	recs, scenes := styledRecords(opts.Seed, index, opts.Twins, opts.Negatives, opts.Split, ext, opts.Captions)
	var out bytes.Buffer
	for i, r := range recs {
		img, err := Render(scenes[i], opts.Size)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", r.Filename, err)
		}
		var enc bytes.Buffer
		if err := Encode(&enc, img, opts.Format); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Filename, err)
		}
		if err := os.WriteFile(filepath.Join(imgDir, r.Filename), enc.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("write image: %w", err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", r.Filename, err)
		}
		if i > 0 {
			out.WriteString(",\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}
