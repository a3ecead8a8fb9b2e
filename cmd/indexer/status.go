package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
)

func runStatus(_ context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("status", usageStatus, stderr, true, true)
	asJSON := lf.fset.Bool("json", false, "print one JSON object")
	if err := cli.ParseArgs(lf.fset, args, 0, 0, "no arguments", usageStatus); err != nil {
		return err
	}
	bundle, err := cli.OpenBundle(*lf.model)
	if err != nil {
		return err
	}
	info := bundle.Info
	lib, err := lf.open(library.Options{NoCreate: true}, cli.WarnLogger(stderr))
	if err != nil {
		return err
	}
	defer lib.Close()
	s, err := indexer.LibraryStats(lib, info)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(s)
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "data dir\t%s\n", s.Dir)
	fmt.Fprintf(tw, "store\t%s\n", s.Store)
	fmt.Fprintf(tw, "images\t%d (%d distinct contents embedded)\n", s.Images, s.Embeddings)
	fmt.Fprintf(tw, "texts\t%d (%d embedded)\n", s.Texts, s.TextEmbeddings)
	fmt.Fprintf(tw, "model\t%s (dim %d)\n", s.Model, s.Dim)
	if s.NamespaceError != "" {
		fmt.Fprintf(tw, "\t%s\n", s.NamespaceError)
	}
	fmt.Fprintf(tw, "database\t%s\n", dbSize(s.DBBytes, s.VectorGraphBytes, s.RecordBytes))
	fmt.Fprintf(tw, "thumbnails\t%d, %s\n", s.Thumbs, size(s.ThumbBytes))
	fmt.Fprintf(tw, "tokens\t%d images cached, %s (the rerank reads them instead of decoding the originals)\n", s.TokenFiles, size(s.TokenBytes))
	fmt.Fprintf(tw, "copies\t%d images, %s (model-resolution copies: the rerank computes missing tokens from them instead of the originals)\n",
		s.CopyFiles, size(s.CopyBytes))
	if r := s.LastRun; r != nil {
		fmt.Fprintf(tw, "last run\t%s, %s: %d indexed, %d unchanged, %d duplicate, %d skipped, %d failed%s\n",
			r.Finished.Local().Format(time.DateTime), r.Elapsed.Round(time.Millisecond), r.Indexed, r.Unchanged,
			r.Duplicate, r.Skipped, r.Failed, map[bool]string{true: " (interrupted)"}[r.Interrupted])
	} else {
		fmt.Fprintf(tw, "last run\tnone\n")
	}
	return tw.Flush()
}

// dbSize describes the database file against the vectors and graphs it holds.
func dbSize(file, vectorGraph, records int64) string {
	if vectorGraph == 0 {
		return fmt.Sprintf("%s (%d bytes; records %s)", size(file), file, size(records))
	}
	return fmt.Sprintf("%s (%d bytes), %.2fx its vectors+graph %s (records %s)", size(file), file,
		float64(file)/float64(vectorGraph), size(vectorGraph), size(records))
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
