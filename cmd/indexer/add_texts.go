package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
)

func runAddTexts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlags("add-texts", stderr)
	data := dataFlag(fset)
	sf := storeFlag(fset)
	model := modelFlag(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() != 1 {
		return usagef("add-texts: want one FILE\nusage: %s", usageAddTexts)
	}
	path := fset.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	lines, err := indexer.ParseTexts(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	lib, err := openLibrary(*data, true, sf, warnLogger(stderr))
	if err != nil {
		return err
	}
	defer lib.Close()
	m, info, err := openModel(*model, encoder.ImageOptions{}, 0, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	ix, err := indexer.New(lib, m, info, indexer.Options{})
	if err != nil {
		return err
	}
	s, err := ix.AddTexts(ctx, lines, path)
	fmt.Fprintf(stdout, "%d texts: %d added, %d already stored\n", len(lines), s.Added, s.Unchanged)
	return err
}
