package encoder

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/glimpse-search/glimpse/photo"
)

var benchBatches = []int{1, 16, 64}

// benchPhoto is a w x h image with smooth gradients and noise (compresses like a photo).
func benchPhoto(w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := uint8(r.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8((x+y)*127/(w+h)) + n, 255})
		}
	}
	return img
}

func benchCaptions(n int) []string {
	base := []string{"a small red circle left of a large blue square",
		"a large green triangle above a small yellow cross, and a small purple ring right of the cross",
		"a photo of a dog on the beach", "A Small CYAN ring with a large orange circle on its left"}
	out := make([]string, n)
	for i := range out {
		out[i] = base[i%len(base)]
	}
	return out
}

func benchVision(batch int) func(b *testing.B) {
	return func(b *testing.B) {
		m := testModel(b)
		pre := m.Preprocessor()
		pix := make([]float32, batch*pre.Len())
		imgs := sceneImages(4)
		for i := range batch {
			if err := pre.PixelsInto(pix[i*pre.Len():(i+1)*pre.Len()], imgs[i%4]); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := m.Vision.EncodePixels(b.Context(), pix, VisionOptions{Tokens: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	}
}

func benchText(batch int) func(b *testing.B) {
	return func(b *testing.B) {
		m := testModel(b)
		texts := benchCaptions(batch)
		for b.Loop() {
			if _, err := m.Text.Encode(b.Context(), texts, TextOptions{States: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "texts/s")
	}
}

// benchITMBatch is the number of pairs per ITM benchmark call (the default MaxBatch).
const benchITMBatch = DefaultMaxBatch

func benchITM(b *testing.B) {
	m := testModel(b)
	if m.ITM == nil {
		b.Skip("bundle has no ITM")
	}
	v, err := m.Vision.Encode(b.Context(), sceneImages(4), VisionOptions{Tokens: true})
	if err != nil {
		b.Fatal(err)
	}
	t, err := m.Text.Encode(b.Context(), benchCaptions(8), TextOptions{States: true})
	if err != nil {
		b.Fatal(err)
	}
	pairs := make([]Pair, benchITMBatch)
	for i := range pairs {
		pairs[i] = Pair{ImageTokens: v.Tokens[i%4], TextStates: t.States[i%8], Mask: t.Masks[i%8]}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.ITM.Score(b.Context(), pairs, ITMOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(pairs))/b.Elapsed().Seconds(), "pairs/s")
}

// benchPreprocess decodes and preprocesses one encoded file per iteration.
func benchPreprocess(data []byte) func(b *testing.B) {
	return func(b *testing.B) {
		pre := testPre(b)
		dst := make([]float32, pre.Len())
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			img, err := photo.Decode(data, ImageOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if err := pre.PixelsInto(dst, img); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/image")
	}
}

func benchTokenizer(b *testing.B) {
	m := testModel(b)
	texts := benchCaptions(64)
	tok := m.Text.Tokenizer()
	n := 0
	for b.Loop() {
		tok.Encode(texts[n%len(texts)])
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

func BenchmarkVision(b *testing.B) {
	for _, n := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", n), benchVision(n))
	}
}

func BenchmarkText(b *testing.B) {
	for _, n := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", n), benchText(n))
	}
}

func BenchmarkITM(b *testing.B) { benchITM(b) }

func BenchmarkPreprocess(b *testing.B) {
	b.Run("png_640x480", func(b *testing.B) { benchPreprocess(encodePNG(b, benchPhoto(640, 480)))(b) })
	b.Run("jpeg_4000x3000", func(b *testing.B) { benchPreprocess(encodeJPEG(b, benchPhoto(4000, 3000)))(b) })
}

func BenchmarkTokenizer(b *testing.B) { benchTokenizer(b) }

// TestBenchReport measures the encoder's throughput with testing.Benchmark and prints a table
// and, as its last line, one JSON object with every figure. It runs only with GLIMPSE_BENCH=1
// (`make bench-encoder`).
func TestBenchReport(t *testing.T) {
	if os.Getenv("GLIMPSE_BENCH") != "1" {
		t.Skip("set GLIMPSE_BENCH=1 to run the encoder benchmark report")
	}
	m := testModel(t)
	type row struct {
		key, what string
		fn        func(*testing.B)
		metric    string
	}
	var rows []row
	for _, n := range benchBatches {
		rows = append(rows, row{fmt.Sprintf("images_per_s_batch%d", n), fmt.Sprintf("vision, batch %d", n), benchVision(n), "images/s"})
	}
	for _, n := range benchBatches {
		rows = append(rows, row{fmt.Sprintf("texts_per_s_batch%d", n), fmt.Sprintf("text, batch %d", n), benchText(n), "texts/s"})
	}
	if m.HasITM() {
		rows = append(rows, row{"itm_pairs_per_s", fmt.Sprintf("itm, batch %d", benchITMBatch), benchITM, "pairs/s"})
	}
	rows = append(rows,
		row{"preprocess_ms_640x480_png", "decode+preprocess 640x480 PNG", benchPreprocess(encodePNG(t, benchPhoto(640, 480))), "ms/image"},
		row{"preprocess_ms_4000x3000_jpeg", "decode+preprocess 4000x3000 JPEG", benchPreprocess(encodeJPEG(t, benchPhoto(4000, 3000))), "ms/image"},
		row{"tokenizer_texts_per_s", "tokenizer (" + m.Manifest.Text.Tokenizer + ")", benchTokenizer, "texts/s"},
	)
	figures := map[string]any{"model": m.Manifest.Name, "embedding_dim": m.Manifest.EmbeddingDim}
	var tab strings.Builder
	tw := tabwriter.NewWriter(&tab, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tRESULT\tUNIT\tITERATIONS\t")
	for _, r := range rows {
		res := testing.Benchmark(r.fn)
		v := res.Extra[r.metric]
		figures[r.key] = roundTo(v, 3)
		fmt.Fprintf(tw, "%s\t%.4g\t%s\t%d\t\n", r.what, v, r.metric, res.N)
	}
	tw.Flush()
	out, err := json.Marshal(figures)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Print(tab.String())
	fmt.Println(string(out))
}

func roundTo(v float64, sig int) float64 {
	var f float64
	fmt.Sscanf(fmt.Sprintf("%.*g", sig, v), "%g", &f)
	return f
}
