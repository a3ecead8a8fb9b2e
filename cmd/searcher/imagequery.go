package main

import (
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/searcher"
)

// openImageQuery parses the flags shared by the subcommands that take a query image (similar,
// caption: --image FILE or --id ID plus the search flags), opens the search session and
// resolves the query image. rerank says whether the ITM flags (--min-score, --rank) apply.
// The caller closes the session.
func openImageQuery(name, usage string, rerank bool, args []string, stderr io.Writer) (*session, searchFlags, searcher.ImageInput, error) {
	fset := cli.NewFlags(name, usage, stderr)
	var sf searchFlags
	sf.register(fset, rerank)
	var img imageFlags
	img.register(fset)
	if err := cli.Parse(fset, args); err != nil {
		return nil, sf, searcher.ImageInput{}, err
	}
	if fset.NArg() > 0 {
		return nil, sf, searcher.ImageInput{}, cli.Usagef("%s takes no arguments, got %q", name, fset.Args())
	}
	if err := img.validate(name); err != nil {
		return nil, sf, searcher.ImageInput{}, err
	}
	if err := sf.validate(); err != nil {
		return nil, sf, searcher.ImageInput{}, err
	}
	ss, err := openSearch(&sf, stderr)
	if err != nil {
		return nil, sf, searcher.ImageInput{}, err
	}
	in, err := img.input(ss.s)
	if err != nil {
		ss.Close()
		return nil, sf, searcher.ImageInput{}, wrap(name, err)
	}
	return ss, sf, in, nil
}
