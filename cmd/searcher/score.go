package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"strings"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/cli"
)

// maxTextBytes caps --text; normal long text is truncated by the tokenizer instead.
const maxTextBytes = 10_000

// scoreResult is score's --json output, the shape of ModelScope's retrieval pipeline.
type scoreResult struct {
	Scores [2]float32 `json:"scores"` // [p_no_match, p_match]
}

func runScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("score", usageScore, stderr)
	var (
		imagePath, text string
		asJSON          bool
		mf              cli.ModelFlags
	)
	fset.StringVar(&imagePath, "image", "", "image file: PNG, JPEG, GIF, WebP, BMP or TIFF (required)")
	fset.StringVar(&text, "text", "", "text to match against the image (required, at most 10,000 bytes)")
	fset.BoolVar(&asJSON, "json", false, `print {"scores": [p_no_match, p_match]} as JSON`)
	mf.Register(fset, "the model")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	switch {
	case fset.NArg() > 0:
		return cli.Usagef("score takes no arguments, got %q (quote the --text)", fset.Args())
	case imagePath == "":
		return cli.Usagef("score: --image is required")
	case strings.TrimSpace(text) == "":
		return cli.Usagef("score: --text is required and must not be blank")
	case len(text) > maxTextBytes:
		return cli.Usagef("score: --text is %d bytes, over the %d-byte limit", len(text), maxTextBytes)
	}
	m, b, err := mf.Open(encoder.ImageOptions{}, cli.WarnLogger(stderr))
	if err != nil {
		return err
	}
	defer m.Close()
	if !m.HasITM() {
		return fmt.Errorf("score: model %s (%s) is a dual encoder without an ITM head: %w", m.Manifest.Name, b.Label,
			encoder.ErrNoITM)
	}
	img, err := readImage(imagePath, m.Preprocessor())
	if err != nil {
		return err
	}
	probs, err := scorePair(ctx, m, img, text)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(scoreResult{Scores: probs})
	}
	verdict := "no match"
	if float64(probs[1]) >= m.Manifest.MatchThreshold() {
		verdict = "match"
	}
	fmt.Fprintf(stdout, "scores: [%.6f, %.6f]  p_match %.4f: %s (threshold %g)\n", probs[0], probs[1], probs[1],
		verdict, m.Manifest.MatchThreshold())
	return nil
}

func readImage(path string, pre *encoder.Preprocessor) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("score: image: %w", err)
	}
	defer f.Close()
	img, err := pre.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("score: image %s: %w", path, err)
	}
	return img, nil
}

// scorePair returns [p_no_match, p_match] for one image and one text.
func scorePair(ctx context.Context, m *encoder.Model, img image.Image, text string) ([2]float32, error) {
	vis, err := m.Vision.Encode(ctx, []image.Image{img}, encoder.VisionOptions{Tokens: true})
	if err != nil {
		return [2]float32{}, err
	}
	txt, err := m.Text.Encode(ctx, []string{text}, encoder.TextOptions{States: true})
	if err != nil {
		return [2]float32{}, err
	}
	out, err := m.ITM.Score(ctx, []encoder.Pair{{ImageTokens: vis.Tokens[0], TextStates: txt.States[0],
		Mask: txt.Masks[0]}}, encoder.ITMOptions{})
	if err != nil {
		return [2]float32{}, err
	}
	return encoder.Softmax2(out.Logits[0]), nil
}
