package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/glimpse-search/glimpse/encoder"
)

// ErrVerifyFailed: some comparison of VerifyModel is outside the bundle's tolerance.
var ErrVerifyFailed = errors.New("outside the bundle's tolerance")

// VerifyModel checks that the runtime reproduces a bundle's golden outputs (or goldenFile's,
// when given: golden.json's format, image paths relative to its folder) and prints the checks
// to stdout, as a table or as one JSON object (VerifyReport). model is --model's value
// (ResolveModel); mf gives the device and threads. Checks outside the tolerance give an error
// that wraps ErrVerifyFailed. `searcher verify-model` and `models verify` run it.
func VerifyModel(ctx context.Context, mf ModelFlags, model, goldenFile string, asJSON bool, stdout, stderr io.Writer) error {
	var g *encoder.Golden
	if goldenFile != "" {
		data, err := os.ReadFile(goldenFile)
		if err != nil {
			return fmt.Errorf("verify-model: %w", err)
		}
		if g, err = encoder.ParseGolden(data); err != nil {
			return fmt.Errorf("verify-model: golden file %s: %w", goldenFile, err)
		}
	}
	mf.Dir = model
	m, b, err := mf.Open(encoder.ImageOptions{}, WarnLogger(stderr))
	if err != nil {
		return err
	}
	defer m.Close()
	var rep *encoder.Report
	golden := m.Manifest.Golden
	if g != nil {
		golden = goldenFile
		rep, err = encoder.VerifyGolden(ctx, m, g, os.DirFS(filepath.Dir(goldenFile)))
	} else {
		rep, err = encoder.Verify(ctx, m, b.FS)
	}
	if err != nil {
		return fmt.Errorf("verify-model %s: %w", b.Label, err)
	}
	man := m.Manifest
	failed := 0
	for _, c := range rep.Checks {
		if !c.OK {
			failed++
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(verifyJSON(man, m.HasITM(), b.Label, golden, rep)); err != nil {
			return err
		}
	} else {
		printVerify(stdout, man, m.HasITM(), b.Label, golden, rep)
	}
	if failed > 0 {
		return fmt.Errorf("verify-model %s: %d of %d checks %w", b.Label, failed, len(rep.Checks), ErrVerifyFailed)
	}
	return nil
}

// printVerify prints the checks as a table.
func printVerify(stdout io.Writer, man *encoder.Manifest, hasITM bool, label, golden string, rep *encoder.Report) {
	opt := ""
	if man.Optimised {
		opt = ", optimised"
	}
	fmt.Fprintf(stdout, "model %s (family %s, D=%d, S=%d, ITM: %v, %s%s) from %s\ngolden: %s\nONNX Runtime: %s\n\n", man.Name,
		man.Family, man.EmbeddingDim, man.Image.Size, hasITM, man.Precision, opt, label, golden, encoder.RuntimeLibrary())
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tMAX ABS\tMEAN ABS\tCOSINE\tLIMIT\tRESULT\t")
	failed := 0
	for _, c := range rep.Checks {
		res := "ok"
		if !c.OK {
			res = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Name, num(c.MaxAbs), num(c.Mean), cos(c.Cosine), c.Limit, res)
		if c.Detail != "" {
			fmt.Fprintf(tw, "  %s\t\t\t\t\t\t\n", c.Detail)
		}
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d of %d checks FAILED\n", failed, len(rep.Checks))
		return
	}
	fmt.Fprintf(stdout, "\nall %d checks passed\n", len(rep.Checks))
}

// VerifyCheck is one check in the JSON output; absent figures (NaN) are null.
type VerifyCheck struct {
	Name   string   `json:"name"`
	MaxAbs *float64 `json:"max_abs"`
	Mean   *float64 `json:"mean_abs"`
	Cosine *float64 `json:"cosine"`
	Limit  string   `json:"limit"`
	OK     bool     `json:"ok"`
}

// VerifyReport is verify-model's JSON output: the checks and, per kind, the worst figure.
type VerifyReport struct {
	Model        string            `json:"model"`
	Family       string            `json:"family"`
	Precision    string            `json:"precision"`
	Optimised    bool              `json:"optimised"`
	Bundle       string            `json:"bundle"`
	Golden       string            `json:"golden"` // the bundle's golden file, or --golden's
	ITM          bool              `json:"itm"`
	OK           bool              `json:"ok"`
	Checks       []VerifyCheck     `json:"checks"`
	MinCosine    *float64          `json:"min_cosine"`        // over image_embeds and text_embeds
	MaxEmbedAbs  *float64          `json:"max_embed_abs"`     // over image_embeds and text_embeds
	MaxPixelAbs  *float64          `json:"max_pixel_abs"`     // over lossless and JPEG images
	MaxITMAbs    *float64          `json:"max_itm_logit_abs"` // null without an ITM graph or golden pairs
	MaxPMatchAbs *float64          `json:"max_p_match_abs"`   // null without an ITM graph or golden pairs
	IDsExact     bool              `json:"input_ids_exact"`
	Tolerance    encoder.Tolerance `json:"tolerance"` // the bundle's, defaults filled in
}

func verifyJSON(man *encoder.Manifest, hasITM bool, label, golden string, rep *encoder.Report) VerifyReport {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	worse := func(cur *float64, v float64, less bool) *float64 {
		if cur == nil || less && v < *cur || !less && v > *cur {
			return num(v)
		}
		return cur
	}
	out := VerifyReport{Model: man.Name, Family: man.Family, Precision: man.Precision, Optimised: man.Optimised, Bundle: label, Golden: golden, ITM: hasITM, OK: rep.OK(),
		IDsExact: true, Tolerance: man.Tolerance}
	for _, c := range rep.Checks {
		out.Checks = append(out.Checks, VerifyCheck{Name: c.Name, MaxAbs: num(c.MaxAbs), Mean: num(c.Mean),
			Cosine: num(c.Cosine), Limit: c.Limit, OK: c.OK})
		switch {
		case strings.HasSuffix(c.Name, "_embeds"):
			out.MinCosine = worse(out.MinCosine, c.Cosine, true)
			out.MaxEmbedAbs = worse(out.MaxEmbedAbs, c.MaxAbs, false)
		case strings.HasSuffix(c.Name, " pixels"):
			out.MaxPixelAbs = worse(out.MaxPixelAbs, c.MaxAbs, false)
		case strings.HasPrefix(c.Name, "itm_logits"):
			out.MaxITMAbs = num(c.MaxAbs)
		case c.Name == "p_match":
			out.MaxPMatchAbs = num(c.MaxAbs)
		case strings.HasSuffix(c.Name, " input_ids"):
			out.IDsExact = out.IDsExact && c.OK
		}
	}
	return out
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3g", v)
}

func cos(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.6f", v)
}
