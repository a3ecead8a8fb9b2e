package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/searcher"
)

const usageSimilar = "searcher similar (--image FILE | --id ID) [--data DIR] [--model DIR] [--k K] [--limit N] " +
	"[--offset N] [--json] [--device cpu|cuda]"

func runSimilar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("similar", usageSimilar, stderr)
	var sf searchFlags
	sf.register(fset, false)
	var img imageFlags
	img.register(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return usagef("similar takes no arguments, got %q", fset.Args())
	}
	if err := img.validate("similar"); err != nil {
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
		return fmt.Errorf("similar: %w", err)
	}
	res, err := ss.s.Similar(ctx, searcher.SimilarQuery{ImageInput: in, Params: sf.params()})
	if err != nil {
		return fmt.Errorf("similar: %w", err)
	}
	if sf.asJSON {
		return printJSON(stdout, res)
	}
	printImages(stdout, res)
	return nil
}
