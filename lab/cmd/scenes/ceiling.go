package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/scene"
)

const ceilingUsage = "usage: scenes ceiling [--json] CAPTIONS_JSON"

// runCeiling prints the best text->image R@1 any model can reach on a
// generated split (see scene.MeasureCeiling).
func runCeiling(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &cli.UsageError{Err: fmt.Errorf("ceiling: %w", err)}
	}
	if fs.NArg() != 1 {
		return cli.Usagef("ceiling: want one captions.json\n%s", ceilingUsage)
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	var ds scene.Dataset
	if err := json.Unmarshal(b, &ds); err != nil {
		return fmt.Errorf("ceiling: %s: %w", fs.Arg(0), err)
	}
	c := scene.MeasureCeiling(ds)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(c)
	}
	fmt.Fprintf(stdout, "%d images, %d captions, %d hold for more than their own image\n", len(ds.Images), c.Captions, c.Ambiguous)
	fmt.Fprintf(stdout, "text->image R@1 ceiling: %.1f\n", c.R1)
	for _, k := range slices.Sorted(maps.Keys(c.ByObjects)) {
		fmt.Fprintf(stdout, "  %d-object scenes: %.1f\n", k, c.ByObjects[k])
	}
	return nil
}
