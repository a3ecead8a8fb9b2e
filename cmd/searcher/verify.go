package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/glimpse-search/glimpse/encoder"
)

// errVerifyFailed: some comparison is outside the bundle's tolerance (exit status 1).
var errVerifyFailed = errors.New("outside the bundle's tolerance")

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("verify-model", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: searcher verify-model [--device cpu|cuda] [--threads N] [DIR]")
		fmt.Fprintln(stderr, "DIR is a model bundle (default: the embedded tiny-scenes).")
		fset.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 1 {
		return usagef("verify-model takes at most one bundle directory, got %q", fset.Args())
	}
	m, fsys, label, err := openModel(fset.Arg(0), mf, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	rep, err := encoder.Verify(ctx, m, fsys)
	if err != nil {
		return fmt.Errorf("verify-model %s: %w", label, err)
	}
	man := m.Manifest
	fmt.Fprintf(stdout, "model %s (family %s, D=%d, S=%d, ITM: %v) from %s\nONNX Runtime: %s\n\n", man.Name,
		man.Family, man.EmbeddingDim, man.Image.Size,
		m.HasITM(), label, encoder.RuntimeLibrary())
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
		return fmt.Errorf("verify-model %s: %d of %d checks %w", label, failed, len(rep.Checks), errVerifyFailed)
	}
	fmt.Fprintf(stdout, "\nall %d checks passed\n", len(rep.Checks))
	return nil
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
