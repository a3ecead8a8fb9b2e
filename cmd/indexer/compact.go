package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/indexer"
)

func runCompact(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlags("compact", stderr)
	data := dataFlag(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() != 0 {
		return usagef("compact: unexpected argument %q\nusage: %s", fset.Arg(0), usageCompact)
	}
	c, err := indexer.Compact(*data, indexer.CompactOptions{MaxRatio: -1})
	if err != nil {
		return inUse(*data, err)
	}
	fmt.Fprintf(stdout, "database compacted: %s\n", compacted(c))
	return nil
}

// compacted describes the file sizes before and after a compaction.
func compacted(c indexer.Compaction) string {
	return fmt.Sprintf("%s -> %s", size(c.Before.File),
		dbSize(c.After, c.Before.Vectors+c.Before.Graph+c.Before.Log, c.Before.Records))
}
