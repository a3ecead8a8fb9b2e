package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
)

func runRemove(_ context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("remove", usageRemove, stderr, true, false)
	if err := cli.ParseArgs(lf.fset, args, 1, -1, "one PATH or more", usageRemove); err != nil {
		return err
	}
	lib, err := lf.open(library.Options{NoCreate: true}, cli.WarnLogger(stderr))
	if err != nil {
		return err
	}
	defer lib.Close()
	n, missing, err := lib.Remove(lf.fset.Args())
	for _, p := range missing {
		fmt.Fprintf(stderr, "not indexed: %s\n", p)
	}
	fmt.Fprintf(stdout, "removed %d images\n", n)
	return err
}
