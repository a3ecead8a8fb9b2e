package main

import (
	"context"
	"io"

	"github.com/glimpse-search/glimpse/searcher"
)

const usageCaption = "searcher caption (--image FILE | --id ID) [--data DIR] [--store URL] [--model NAME|DIR] [--k K] [--limit N] " +
	"[--offset N] [--min-score P] [--rank itm|itm+itc|itm_logit|itm_logit+itc] [--json] [--device cpu|cuda]"

func runCaption(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ss, sf, in, err := openImageQuery("caption", usageCaption, true, args, stderr)
	if err != nil {
		return err
	}
	defer ss.Close()
	res, err := ss.s.Captions(ctx, searcher.CaptionQuery{ImageInput: in, Params: sf.params()})
	if err != nil {
		return wrap("caption", err)
	}
	if sf.asJSON {
		return printJSON(stdout, res)
	}
	printTexts(stdout, res)
	return nil
}
