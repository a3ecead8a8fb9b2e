package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/scene"
)

const ceilingUsage = "scenes ceiling [--json] CAPTIONS_JSON"

// runCeiling prints the best text->image R@1 any model can reach on a
// generated split (see scene.MeasureCeiling).
func runCeiling(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("ceiling", ceilingUsage, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := cli.ParseArgs(fs, args, 1, 1, "one captions.json", ceilingUsage); err != nil {
		return err
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
