package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/searcher"
)

const usageCaption = "searcher caption (--image FILE | --id ID) [--data DIR] [--model DIR] [--k K] [--limit N] " +
	"[--offset N] [--min-score P] [--rank itm|itm+itc] [--json] [--device cpu|cuda]"

func runCaption(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("caption", usageCaption, stderr)
	var sf searchFlags
	sf.register(fset, true)
	var img imageFlags
	img.register(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return usagef("caption takes no arguments, got %q", fset.Args())
	}
	if err := img.validate("caption"); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	ss, err := openSearch(&sf, stderr)
	if err != nil {
		return err
	}
	defer ss.Close()
	in, err := img.input(ss.s)
	if err != nil {
		return fmt.Errorf("caption: %w", err)
	}
	res, err := ss.s.Captions(ctx, searcher.CaptionQuery{ImageInput: in, Params: sf.params()})
	if err != nil {
		return fmt.Errorf("caption: %w", err)
	}
	if sf.asJSON {
		return printJSON(stdout, res)
	}
	printTexts(stdout, res)
	return nil
}
