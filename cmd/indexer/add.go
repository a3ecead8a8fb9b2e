package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/web/client"
)

// maxListed is how many skipped or failed files add prints when there is no --report.
const maxListed = 10

func runAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("add", usageAdd, stderr, true, true)
	fset, data, model := lf.fset, lf.data, lf.model
	workers := fset.Int("workers", runtime.NumCPU(), "files decoded in parallel")
	threads := fset.Int("threads", 1, "threads of each encoder run (0: one per core)")
	encoders := fset.Int("encoders", runtime.NumCPU(), "encoder runs at once; one single-threaded run per core "+
		"measured 24% faster than one run on every core (make bench-index)")
	batch := fset.Int("batch", indexer.DefaultBatch, "images per encoder run and per database transaction")
	report := fset.String("report", "", "write one JSON line per file {\"path\",\"status\",\"reason\"} to FILE")
	maxPixels := fset.Int64("max-pixels", indexer.DefaultMaxPixels, "skip images with more pixels (read from the header, before decoding)")
	tokens := fset.String("tokens", "", "ITM tokens of new images: eager (stored in the data dir's token cache, so no query "+
		"decodes an original again), copies (stored while the cache has room, and a model-resolution JPEG copy of each "+
		"image, from which a query that reranks an image without cached tokens computes them without decoding the "+
		"original) or lazy (that query decodes the original); default: eager when an image's tokens take at most 64 KiB (the default model: 16.6 KiB), else copies; "+
		"a job handed to a running server takes the default")
	cacheMB := fset.Int64("cache-mb", 1024, "token cache budget in MiB (the least recently used files are deleted past it; 1 GiB holds "+
		"about 64,000 photos' tokens with the default model); give the server and searcher the same --cache-mb, "+
		"as they trim the cache to theirs when they open it")
	keyFile := fset.String("api-key-file", "", "API key (its first line) for handing the job to a running server "+
		"(default $"+cli.EnvAPIKey+")")
	if err := cli.ParseArgs(fset, args, 1, -1, "one PATH or more", usageAdd); err != nil {
		return err
	}
	if *workers < 1 || *encoders < 1 || *batch < 1 || *maxPixels < 1 {
		return cli.Usagef("add: --workers, --encoders, --batch and --max-pixels must be at least 1")
	}
	if *cacheMB < 1 {
		return cli.Usagef("add: --cache-mb %d: want >= 1", *cacheMB)
	}
	if *tokens != "" {
		if _, err := indexer.ParseTokens(*tokens); err != nil {
			return cli.Usagef("add: --tokens: %v", err)
		}
	}
	if *threads < 0 {
		return cli.Usagef("add: --threads must be 0 (one per core) or more")
	}
	var rep *reportFile
	if *report != "" {
		var err error
		if rep, err = createReport(*report); err != nil {
			return err
		}
		defer rep.Close()
	}
	if srv, ok, err := findServer(ctx, *data, stderr); err != nil {
		return err
	} else if ok { // the server holds the database: it runs the job
		if explicit(fset, "tokens") {
			fmt.Fprintf(stderr, "note: --tokens applies when add opens the data dir itself; the server's job takes the "+
				"default policy for its model\n")
		}
		key, err := apiKey(*keyFile)
		if err != nil {
			return err
		}
		req := client.IndexRequest{Paths: fset.Args(), Batch: *batch, MaxPixels: *maxPixels}
		if explicit(fset, "workers") {
			req.Workers = *workers
		}
		return addViaServer(ctx, srv, key, req, rep, stdout, stderr)
	}
	prog := newProgress(stderr)
	lib, err := lf.open(library.Options{}, prog.logger)
	if err != nil {
		return err
	}
	defer lib.Close() // a second Close does nothing
	m, info, err := openModel(*model, encoder.ImageOptions{MaxPixels: *maxPixels}, *threads, stderr)
	if err != nil {
		return err
	}
	defer m.Close()

	var listed []indexer.FileResult
	ix, err := indexer.New(lib, m, info, indexer.Options{
		Workers:     *workers,
		Encoders:    *encoders,
		Batch:       *batch,
		MaxPixels:   *maxPixels,
		Tokens:      *tokens,
		TokenBudget: *cacheMB << 20,
		OnFile: func(r indexer.FileResult) {
			if rep != nil {
				rep.write(r)
			} else if (r.Status == indexer.StatusSkipped || r.Status == indexer.StatusFailed) && len(listed) < maxListed {
				listed = append(listed, r)
			}
		},
		OnProgress: prog.update,
		Logger:     prog.logger,
	})
	if err != nil {
		return err
	}
	s, err := ix.Add(ctx, fset.Args())
	prog.finish()
	if rep != nil {
		if cerr := rep.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	for _, r := range listed {
		fmt.Fprintf(stderr, "%s %s: %s\n", r.Status, r.Path, r.Reason)
	}
	rate := 0.0
	if sec := s.Elapsed.Seconds(); sec > 0 {
		rate = float64(s.Done()) / sec
	}
	fmt.Fprintf(stdout, "%d files: %d indexed, %d unchanged, %d duplicate, %d skipped, %d failed in %.1fs (%.1f files/s)\n",
		s.Found, s.Indexed, s.Unchanged, s.Duplicate, s.Skipped, s.Failed, s.Elapsed.Seconds(), rate)
	if s.NotProcessed > 0 {
		fmt.Fprintf(stdout, "%d files not processed: the run stopped before reaching them; run the same command again\n", s.NotProcessed)
	}
	if len(listed) == maxListed && s.Skipped+s.Failed > maxListed {
		fmt.Fprintf(stderr, "(%d more skipped or failed; --report FILE lists every file)\n", s.Skipped+s.Failed-maxListed)
	}
	if s.Interrupted {
		return fmt.Errorf("interrupted after %d of %d files; the committed batches are kept: run the same command again to finish",
			s.Done(), s.Found)
	}
	if err != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil || s.Indexed+s.Duplicate == 0 {
		return err
	}
	// The run wrote to the database this process owns: squeeze out what its batches left.
	if err := lib.Close(); err != nil { // Compact takes the lock itself
		return fmt.Errorf("close database: %w", err)
	}
	compactAfterAdd(*data, stdout, stderr)
	return nil
}

// compactAfterAdd compacts the data dir's database when a bulk add left it wasteful
// (library.CompactOptions). A failure leaves the file as it was, so it is only reported.
func compactAfterAdd(dir string, stdout, stderr io.Writer) {
	c, err := library.Compact(dir, library.CompactOptions{})
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "database not compacted (it is intact; `indexer compact` retries): %v\n", err)
	case c.Compacted:
		fmt.Fprintf(stdout, "database compacted: %s\n", compacted(c))
	}
}

// reportFile writes the --report JSON lines.
type reportFile struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

func createReport(path string) (*reportFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w := bufio.NewWriter(f)
	return &reportFile{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (r *reportFile) write(fr indexer.FileResult) {
	if r.err == nil {
		r.err = r.enc.Encode(fr)
	}
}

// Close flushes and closes the file once; later calls return nil.
func (r *reportFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.err
	if ferr := r.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// explicit reports whether a flag was given on the command line.
func explicit(fset *flag.FlagSet, name string) bool {
	set := false
	fset.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
