package rerank

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/photo"
)

var (
	modelOnce sync.Once
	testM     *encoder.Model
	modelErr  error
)

// testModel opens the embedded default bundle once (fails without ONNX Runtime).
func testModel(tb testing.TB) *encoder.Model {
	tb.Helper()
	modelOnce.Do(func() { testM, modelErr = encoder.Open(models.Default(), encoder.Options{}) })
	if modelErr != nil {
		tb.Fatalf("open default bundle: %v", modelErr)
	}
	return testM
}

// scenePNGs renders n generated scenes as PNG files' bytes.
func scenePNGs(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var out [][]byte
	for i := range n {
		img, err := scene.Render(scene.NewScene(5, i), 64)
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if err := scene.Encode(&buf, img, "png"); err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// The batched scores equal scoring each pair alone, for every batch size, in both directions.
func TestScoresMatchSinglePairs(t *testing.T) {
	m := testModel(t)
	ctx := context.Background()
	files := scenePNGs(t, 5)
	src := NewRecompute(m, RecomputeOptions{Open: func(p string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files[p[0]-'0'])), nil
	}})
	var rs []ImageRef
	for i := range files {
		rs = append(rs, ImageRef{ContentID: uint64(i + 1), Path: string(rune('0' + i))})
	}
	toks, errs := src.Tokens(ctx, rs, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	texts := []string{"a small red circle", "a large blue square left of a green ring", "something else", "x"}
	for _, batch := range []int{1, 2, 32} {
		r, err := New(m, Options{Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		enc, _, err := r.EncodeTexts(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Images(ctx, enc[1], toks)
		if err != nil {
			t.Fatal(err)
		}
		byText, err := r.Texts(ctx, toks[3], texts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range toks {
			one, err := r.Attend(ctx, toks[i], enc[1])
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(float64(one.PMatch-got[i].PMatch)) > 1e-5 || got[i].PMatch < 0 || got[i].PMatch > 1 {
				t.Fatalf("batch %d image %d: batched p %v, alone %v", batch, i, got[i].PMatch, one.PMatch)
			}
			if len(one.Cross) != m.Manifest.Text.MaxLength*m.Manifest.Dims.ImageTokens {
				t.Fatalf("cross-attention of %d values", len(one.Cross))
			}
		}
		for j := range texts {
			one, err := r.Attend(ctx, toks[3], enc[j])
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(float64(one.PMatch-byText[j].PMatch)) > 1e-5 {
				t.Fatalf("batch %d text %d: batched p %v, alone %v", batch, j, byText[j].PMatch, one.PMatch)
			}
		}
	}
}

func TestRecomputeUnavailable(t *testing.T) {
	m := testModel(t)
	files := scenePNGs(t, 1)
	dir := t.TempDir()
	good := dir + "/good.png"
	if err := os.WriteFile(good, files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	bad := dir + "/bad.png"
	if err := os.WriteFile(bad, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := NewRecompute(m, RecomputeOptions{Workers: 2})
	var st Stats
	toks, errs := src.Tokens(context.Background(), []ImageRef{{ContentID: 1, Path: dir + "/gone.png"},
		{ContentID: 2, Path: good}, {ContentID: 3, Path: bad}, {ContentID: 4, Path: dir + "/moved.png", Fallback: good}}, &st)
	if errs == nil || !errors.Is(errs[0], ErrUnavailable) || errs[1] != nil || !errors.Is(errs[2], ErrUnavailable) || errs[3] != nil {
		t.Fatalf("errs %v", errs)
	}
	if toks[0] != nil || len(toks[1]) != src.TokenLen() || toks[2] != nil || st.Misses != 4 || st.Encode <= 0 ||
		!slices.Equal(toks[3], toks[1]) {
		t.Fatalf("tokens %d/%d/%d values, stats %+v", len(toks[0]), len(toks[1]), len(toks[2]), st)
	}
	// the tokens are the vision encoder's
	img, err := photo.Decode(files[0], photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Vision.Encode(context.Background(), []image.Image{img}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.Tokens[0] {
		if v != toks[1][i] {
			t.Fatalf("token %d: %v, vision encoder %v", i, toks[1][i], v)
		}
	}
}

// TestRecomputeReadOrder: a recompute reads the model-resolution copy when there is one and
// opens nothing else, then the original, then the fallback; the error of a candidate none of
// whose files decodes is the original's.
func TestRecomputeReadOrder(t *testing.T) {
	m := testModel(t)
	files := scenePNGs(t, 3)
	good := map[string][]byte{"copy": files[0], "original": files[1], "thumb": files[2], "bad": []byte("not a png")}
	cases := []struct {
		name                 string
		copy, path, fallback string
		opened               []string
		from                 int  // index of the scene whose tokens come back; -1: none
		pathErr              bool // the error names the original's
	}{
		{"copy", "copy", "original", "thumb", []string{"copy"}, 0, false},
		{"no copy named", "", "original", "thumb", []string{"original"}, 1, false},
		{"copy missing", "gone", "original", "thumb", []string{"gone", "original"}, 1, false},
		{"copy damaged", "bad", "original", "thumb", []string{"bad", "original"}, 1, false},
		{"original moved", "gone", "moved", "thumb", []string{"gone", "moved", "thumb"}, 2, false},
		{"copy only", "copy", "moved", "", []string{"copy"}, 0, false},
		{"nothing readable", "gone", "moved", "", []string{"gone", "moved"}, -1, true},
		{"nothing named", "", "", "", nil, -1, false},
	}
	want := make([][]float32, len(files))
	for i, f := range files {
		img, err := photo.Decode(f, photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Vision.Encode(context.Background(), []image.Image{img}, encoder.VisionOptions{Tokens: true})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out.Tokens[0]
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opened []string
			src := NewRecompute(m, RecomputeOptions{Workers: 1, Open: func(p string) (io.ReadCloser, error) {
				opened = append(opened, p)
				if b, ok := good[p]; ok {
					return io.NopCloser(bytes.NewReader(b)), nil
				}
				return nil, fmt.Errorf("open %s: %w", p, os.ErrNotExist)
			}})
			toks, errs := src.Tokens(context.Background(), []ImageRef{{ContentID: 7, Copy: c.copy, Path: c.path,
				Fallback: c.fallback}}, nil)
			if !slices.Equal(opened, c.opened) {
				t.Errorf("opened %q, want %q", opened, c.opened)
			}
			if c.from < 0 {
				if errs == nil || !errors.Is(errs[0], ErrUnavailable) || toks[0] != nil {
					t.Fatalf("tokens %d values, errs %v; want ErrUnavailable", len(toks[0]), errs)
				}
				if c.pathErr && !strings.Contains(errs[0].Error(), c.path) {
					t.Errorf("error %v is not the original's", errs[0])
				}
				return
			}
			if errs != nil {
				t.Fatalf("errs %v", errs)
			}
			if !slices.Equal(toks[0], want[c.from]) {
				t.Errorf("the tokens are not those of file %d", c.from)
			}
		})
	}
}

func TestBadPairs(t *testing.T) {
	m := testModel(t)
	r, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	enc, _, err := r.EncodeTexts(context.Background(), []string{"a red circle"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Images(context.Background(), enc[0], [][]float32{make([]float32, 3)}); !errors.Is(err, ErrInput) {
		t.Fatalf("short image tokens: %v", err)
	}
	if s, err := r.Images(context.Background(), enc[0], nil); err != nil || len(s) != 0 {
		t.Fatalf("no candidates: %v, %v", s, err)
	}
	if _, err := New(nil, Options{}); !errors.Is(err, encoder.ErrNoITM) {
		t.Fatalf("nil model: %v", err)
	}
}
