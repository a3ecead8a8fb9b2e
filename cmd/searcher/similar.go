package main

import (
	"context"
	"io"

	"github.com/glimpse-search/glimpse/searcher"
)

const usageSimilar = "searcher similar (--image FILE | --id ID) [--data DIR] [--store URL] [--model NAME|DIR] [--k K] [--limit N] " +
	"[--offset N] [--json] [--device cpu|cuda]"

func runSimilar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ss, sf, in, err := openImageQuery("similar", usageSimilar, false, args, stderr)
	if err != nil {
		return err
	}
	defer ss.Close()
	res, err := ss.s.Similar(ctx, searcher.SimilarQuery{ImageInput: in, Params: sf.params()})
	if err != nil {
		return wrap("similar", err)
	}
	if sf.asJSON {
		return printJSON(stdout, res)
	}
	printImages(stdout, res)
	return nil
}
