package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/searcher"
)

const usageExplain = "searcher explain (--image FILE | --id ID) --text TEXT --out FILE.png [--data DIR] [--model NAME|DIR] " +
	"[--json] [--device cpu|cuda]"

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("explain", usageExplain, stderr)
	var sf searchFlags
	sf.register(fset, false)
	var img imageFlags
	img.register(fset)
	var text, out string
	fset.StringVar(&text, "text", "", "the text to explain (required)")
	fset.StringVar(&out, "out", "", "PNG file to write the heat map overlay to (required)")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	switch {
	case fset.NArg() > 0:
		return cli.Usagef("explain takes no arguments, got %q (quote the --text)", fset.Args())
	case strings.TrimSpace(text) == "":
		return cli.Usagef("explain: --text is required and must not be blank")
	case out == "":
		return cli.Usagef("explain: --out FILE.png is required")
	}
	if err := img.validate("explain"); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	var ss *session
	var err error
	if img.id != 0 {
		ss, err = openSearch(&sf, stderr)
	} else {
		ss, err = openScratch(&sf, stderr) // a file needs no index
	}
	if err != nil {
		return err
	}
	defer ss.Close()
	in, err := img.input(ss.s)
	if err != nil {
		return wrap("explain", err)
	}
	e, err := ss.s.Explain(ctx, searcher.ExplainQuery{ImageInput: in, Text: text})
	if err != nil {
		return wrap("explain", err)
	}
	var buf bytes.Buffer
	if err := e.WritePNG(&buf); err != nil {
		return err
	}
	if err := library.WriteFileAtomic(out, buf.Bytes(), true); err != nil {
		return wrap("explain", err)
	}
	if sf.asJSON {
		return printJSON(stdout, struct {
			*searcher.Explanation
			Out string `json:"out"`
		}{e, out})
	}
	fmt.Fprintf(stdout, "p_match %.4f, itc %.4f; heat map (%dx%d patches) over the image written to %s\n",
		e.PMatch, e.ITC, e.Grid, e.Grid, out)
	return nil
}
