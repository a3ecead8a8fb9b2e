package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
)

func runCompact(_ context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("compact", usageCompact, stderr, false, false)
	data := lf.data
	if err := cli.ParseArgs(lf.fset, args, 0, 0, "no arguments", usageCompact); err != nil {
		return err
	}
	c, err := library.Compact(*data, library.CompactOptions{MaxRatio: -1})
	if err != nil {
		return cli.InUse(*data, err)
	}
	fmt.Fprintf(stdout, "database compacted: %s\n", compacted(c))
	return nil
}

// compacted describes the file sizes before and after a compaction.
func compacted(c library.Compaction) string {
	return fmt.Sprintf("%s -> %s", size(c.Before.File),
		dbSize(c.After, c.Before.Vectors+c.Before.Graph+c.Before.Log, c.Before.Records))
}
