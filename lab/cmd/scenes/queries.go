package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/scene"
)

const queriesUsage = "scenes queries --captions CAPTIONS_JSON --n N --seed S [--edits] [--out FILE]"

// runQueries draws search-box queries over a generated gallery and writes them with their
// truth (scene.Queries) as JSON: the input of `searcher eval --queries`.
func runQueries(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("queries", queriesUsage, stderr)
	captions := fs.String("captions", "", "the gallery's captions.json, scene graphs included (required)")
	n := fs.Int("n", 0, "queries to draw, 1..100000 (required; kinds in turn)")
	seed := fs.Uint64("seed", 0, "query seed (use one the gallery's training did not)")
	edits := fs.Bool("edits", false, "follow each query with its one-aspect edits (scene.Query.Edits), for training")
	out := fs.String("out", "", "write the queries here (default: stdout)")
	if err := cli.ParseArgs(fs, args, 0, 0, "no arguments", queriesUsage); err != nil {
		return err
	}
	if *captions == "" || *n < 1 || *n > 100_000 {
		return cli.Usagef("queries: want --captions FILE and --n in 1..100000\nusage: %s", queriesUsage)
	}
	b, err := os.ReadFile(*captions)
	if err != nil {
		return fmt.Errorf("queries: %w", err)
	}
	var ds scene.Dataset
	if err := json.Unmarshal(b, &ds); err != nil {
		return fmt.Errorf("queries: %s: %w", *captions, err)
	}
	set := scene.Queries(ds, *n, *seed, *edits)
	set.Gallery = filepath.Base(*captions)
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("queries: %w", err)
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(set); err != nil {
		return fmt.Errorf("queries: %w", err)
	}
	if *out != "" {
		fmt.Fprintf(stdout, "wrote %d queries over %d images to %s\n", len(set.Queries), set.Images, *out)
	}
	return nil
}
