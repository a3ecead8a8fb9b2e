package main

import (
	"context"
	"io"
	"strings"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/searcher"
)

const usageQuery = "searcher query [--data DIR] [--store URL] [--model NAME|DIR] [--k K] [--limit N] [--offset N] [--min-score P] " +
	"[--rank itm|itm+itc|itm_logit|itm_logit+itc] [--from DATE] [--to DATE] [--folder PREFIX] [--json] [--device cpu|cuda] TEXT"

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("query", usageQuery, stderr)
	var sf searchFlags
	sf.register(fset, true)
	var from, to, folder string
	fset.StringVar(&from, "from", "", "only photos captured on or after this date (YYYY-MM-DD or RFC 3339)")
	fset.StringVar(&to, "to", "", "only photos captured on or before this date (inclusive; YYYY-MM-DD or RFC 3339)")
	fset.StringVar(&folder, "folder", "", "only photos whose path starts with this prefix")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	text := strings.Join(fset.Args(), " ")
	if strings.TrimSpace(text) == "" {
		return cli.Usagef("query: the query text is empty\nusage: %s", usageQuery)
	}
	var f searcher.Filter
	var err error
	if f.From, err = parseDate("from", from, false); err != nil {
		return err
	}
	if f.To, err = parseDate("to", to, true); err != nil {
		return err
	}
	f.Folder = folder
	ss, err := openSearch(&sf, stderr)
	if err != nil {
		return err
	}
	defer ss.Close()
	res, err := ss.s.Images(ctx, searcher.ImageQuery{Text: text, Params: sf.params(), Filter: f})
	if err != nil {
		return wrap("query", err)
	}
	if sf.asJSON {
		return printJSON(stdout, res)
	}
	printImages(stdout, res)
	return nil
}
