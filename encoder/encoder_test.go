package encoder

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/glimpse-search/glimpse/internal/testenv"
	"github.com/glimpse-search/glimpse/models"
)

// sceneImages are n small distinct images.
func sceneImages(n int) []image.Image {
	imgs := make([]image.Image, n)
	for i := range imgs {
		img := image.NewRGBA(image.Rect(0, 0, 48+i, 40))
		for y := range 40 {
			for x := range 48 + i {
				img.Set(x, y, color.RGBA{uint8(x * 5 * (i + 1)), uint8(y * 6), uint8(i * 40), 255})
			}
		}
		imgs[i] = img
	}
	return imgs
}

var testTexts = []string{"a small red circle", "a large blue square left of a small green triangle", "",
	"A YELLOW cross!", "a photo of a dog", "a small purple ring above a large cyan cross"}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestBatching: splitting into runs of MaxBatch gives the results of one run per item.
func TestBatching(t *testing.T) {
	ref := testModel(t)
	small, err := Open(models.Default(), Options{MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	ctx := t.Context()
	imgs := sceneImages(5)
	a, err := ref.Vision.Encode(ctx, imgs, VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := small.Vision.Encode(ctx, imgs, VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	ta, err := ref.Text.Encode(ctx, testTexts, TextOptions{States: true})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := small.Text.Encode(ctx, testTexts, TextOptions{States: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Embeds) != 5 || len(b.Tokens) != 5 || len(tb.Embeds) != len(testTexts) {
		t.Fatalf("got %d embeds, %d tokens, %d text embeds", len(b.Embeds), len(b.Tokens), len(tb.Embeds))
	}
	for i := range imgs {
		if d := maxDiff(a.Embeds[i], b.Embeds[i]); d > 1e-5 {
			t.Errorf("image %d: embeds differ by %g between batch sizes", i, d)
		}
		if d := maxDiff(a.Tokens[i], b.Tokens[i]); d > 1e-4 {
			t.Errorf("image %d: tokens differ by %g", i, d)
		}
		if n := norm(b.Embeds[i]); math.Abs(n-1) > 1e-3 {
			t.Errorf("image %d: embedding norm %g, want 1", i, n)
		}
	}
	for i := range testTexts {
		if d := maxDiff(ta.Embeds[i], tb.Embeds[i]); d > 1e-5 {
			t.Errorf("text %d: embeds differ by %g", i, d)
		}
	}
	var pairs []Pair
	for i := range imgs {
		for j := range testTexts {
			pairs = append(pairs, Pair{ImageTokens: a.Tokens[i], TextStates: ta.States[j], Mask: ta.Masks[j]})
		}
	}
	la, err := ref.ITM.Score(ctx, pairs, ITMOptions{CrossAttention: true})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := small.ITM.Score(ctx, pairs, ITMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(la.CrossAttention) != len(pairs) || lb.CrossAttention != nil {
		t.Errorf("cross attention: %d with, %d without option", len(la.CrossAttention), len(lb.CrossAttention))
	}
	for i := range pairs {
		if d := maxDiff(la.Logits[i][:], lb.Logits[i][:]); d > 1e-4 {
			t.Errorf("pair %d: logits differ by %g", i, d)
		}
	}
	// Without the option, tokens and states are not returned.
	c, err := ref.Vision.Encode(ctx, imgs[:1], VisionOptions{})
	if err != nil || c.Tokens != nil || len(c.Embeds) != 1 {
		t.Errorf("Encode without tokens: %v, tokens %v", err, c.Tokens != nil)
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEncodeInputErrors(t *testing.T) {
	m := testModel(t)
	ctx := t.Context()
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"pixels not a multiple of 3*S*S", func() error {
			_, err := m.Vision.EncodePixels(ctx, make([]float32, 100), VisionOptions{})
			return err
		}, ErrInput},
		{"nil image", func() error {
			_, err := m.Vision.Encode(ctx, []image.Image{nil}, VisionOptions{})
			return err
		}, ErrInput},
		{"empty image", func() error {
			_, err := m.Vision.Encode(ctx, []image.Image{image.NewRGBA(image.Rect(0, 0, 0, 5))}, VisionOptions{})
			return err
		}, ErrUnsupportedImage},
		{"ITM pair of wrong sizes", func() error {
			_, err := m.ITM.Score(ctx, []Pair{{ImageTokens: make([]float32, 3), TextStates: nil, Mask: nil}}, ITMOptions{})
			return err
		}, ErrInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Empty batches are not errors.
	if out, err := m.Vision.Encode(ctx, nil, VisionOptions{}); err != nil || len(out.Embeds) != 0 {
		t.Errorf("empty vision batch: %v", err)
	}
	if out, err := m.Text.Encode(ctx, nil, TextOptions{}); err != nil || len(out.Embeds) != 0 {
		t.Errorf("empty text batch: %v", err)
	}
}

// TestConcurrentUse runs the encoders from several goroutines on one Model.
func TestConcurrentUse(t *testing.T) {
	m := testModel(t)
	ctx := t.Context()
	imgs := sceneImages(3)
	want, err := m.Vision.Encode(ctx, imgs, VisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantT, err := m.Text.Encode(ctx, testTexts, TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Go(func() {
			for range 10 {
				got, err := m.Vision.Encode(ctx, imgs, VisionOptions{})
				if err != nil {
					errs[g] = err
					return
				}
				gotT, err := m.Text.Encode(ctx, testTexts, TextOptions{})
				if err != nil {
					errs[g] = err
					return
				}
				for i := range imgs {
					if d := maxDiff(got.Embeds[i], want.Embeds[i]); d > 1e-5 {
						errs[g] = fmt.Errorf("image %d differs by %g under concurrency", i, d)
						return
					}
				}
				for i := range testTexts {
					if d := maxDiff(gotT.Embeds[i], wantT.Embeds[i]); d > 1e-5 {
						errs[g] = fmt.Errorf("text %d differs by %g under concurrency", i, d)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", g, err)
		}
	}
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes(tb testing.TB) int64 {
	tb.Helper()
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		testenv.Missing(tb, "no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(raw))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// TestNoTensorLeak runs many small encoder calls and checks that resident memory does not grow:
// every ORT tensor must be destroyed (ORT memory is invisible to the Go GC).
func TestNoTensorLeak(t *testing.T) {
	m := testModel(t)
	ctx := t.Context()
	img := sceneImages(1)
	calls := 2000
	if testing.Short() {
		calls = 500
	}
	step := func() {
		v, err := m.Vision.Encode(ctx, img, VisionOptions{Tokens: true})
		if err != nil {
			t.Fatal(err)
		}
		x, err := m.Text.Encode(ctx, testTexts[:1], TextOptions{States: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.ITM.Score(ctx, []Pair{{v.Tokens[0], x.States[0], x.Masks[0]}}, ITMOptions{CrossAttention: true}); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 { // warm up ORT's arenas and the Go heap
		step()
	}
	runtime.GC()
	debug.FreeOSMemory()
	before := rssBytes(t)
	for range calls {
		step()
	}
	runtime.GC()
	debug.FreeOSMemory()
	after := rssBytes(t)
	growth := float64(after-before) / (1 << 20)
	t.Logf("RSS %.1f MB -> %.1f MB over %d vision+text+itm calls (%+.2f MB)", float64(before)/(1<<20),
		float64(after)/(1<<20), calls, growth)
	if growth > 3 {
		t.Errorf("RSS grew by %.1f MB over %d calls: a tensor leak?", growth, calls)
	}
}
