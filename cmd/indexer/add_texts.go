package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
)

func runAddTexts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("add-texts", usageAddTexts, stderr, true, true)
	if err := cli.ParseArgs(lf.fset, args, 1, 1, "one FILE", usageAddTexts); err != nil {
		return err
	}
	path := lf.fset.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	lines, err := indexer.ParseTexts(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	lib, err := lf.open(library.Options{}, cli.WarnLogger(stderr))
	if err != nil {
		return err
	}
	defer lib.Close()
	m, info, err := openModel(*lf.model, encoder.ImageOptions{}, 0, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	ix, err := indexer.New(lib, m, info, indexer.Options{Tokens: indexer.TokensLazy}) // texts only
	if err != nil {
		return err
	}
	s, err := ix.AddTexts(ctx, lines, path)
	fmt.Fprintf(stdout, "%d texts: %d added, %d already stored\n", len(lines), s.Added, s.Unchanged)
	return err
}
