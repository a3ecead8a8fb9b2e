package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/scene"
)

const usage = "scenes generate --n N --seed S --out DIR [--size PX] [--format png|jpeg] [--twins] [--split NAME] [--negatives K] [--start I] [--captions short|full|both]"

var program = cli.Program{
	Name: "scenes",
	Commands: []cli.Command{
		{Name: "generate", Usage: usage, Summary: "render a gallery of scenes with captions.json (captions, scene graphs, hard negatives)", Run: runGenerate},
		{Name: "ceiling", Usage: ceilingUsage, Summary: "the best text->image R@1 any model can reach on a gallery", Run: runCeiling},
		{Name: "queries", Usage: queriesUsage, Summary: "draw search-box queries over a gallery, each with the images it is true of", Run: runQueries},
	},
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return program.Dispatch(ctx, args, stdout, stderr)
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("generate", usage, stderr)
	var o scene.Options
	fs.IntVar(&o.N, "n", 0, "number of scenes, 1..1000000 (required)")
	fs.Uint64Var(&o.Seed, "seed", 0, "dataset seed")
	fs.StringVar(&o.Out, "out", "", "output directory (required)")
	fs.IntVar(&o.Size, "size", 256, "image side in pixels, 32..2048")
	fs.StringVar(&o.Format, "format", "png", "image format: png or jpeg")
	fs.BoolVar(&o.Twins, "twins", false, "also write a binding twin of every scene")
	fs.StringVar(&o.Split, "split", "test", "split name written to captions.json")
	negatives := fs.Int("negatives", scene.DefaultNegatives, "hard negatives per image, 0..50")
	fs.IntVar(&o.Start, "start", 0, "first scene index")
	captions := fs.String("captions", string(scene.StyleShort),
		"caption style of single-object scenes: short, full (every caption names the region and background) or both (short then full)")
	if err := cli.ParseArgs(fs, args, 0, 0, "no arguments", usage); err != nil {
		return err
	}
	switch {
	case o.N < 1 || o.N > scene.MaxN:
		return cli.Usagef("generate: --n must be in 1..%d, got %d", scene.MaxN, o.N)
	case o.Size < scene.MinSize || o.Size > scene.MaxSize:
		return cli.Usagef("generate: --size must be in %d..%d, got %d", scene.MinSize, scene.MaxSize, o.Size)
	case o.Format != "png" && o.Format != "jpeg":
		return cli.Usagef("generate: --format must be png or jpeg, got %q", o.Format)
	case o.Out == "":
		return cli.Usagef("generate: --out is required")
	case *negatives < 0 || *negatives > 50:
		return cli.Usagef("generate: --negatives must be in 0..50, got %d", *negatives)
	case o.Start < 0:
		return cli.Usagef("generate: --start must be >= 0, got %d", o.Start)
	case o.Split == "":
		return cli.Usagef("generate: --split must not be empty")
	case !scene.Style(*captions).Valid():
		return cli.Usagef("generate: --captions must be short, full or both, got %q", *captions)
	}
	o.Captions = scene.Style(*captions)
	o.Negatives = *negatives
	if o.Negatives == 0 {
		o.Negatives = -1 // Options: negative means none
	}
	t0 := time.Now()
	if err := scene.Generate(ctx, o); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	images := o.N
	if o.Twins {
		images *= 2
	}
	fmt.Fprintf(stdout, "wrote %d images and captions.json to %s in %s\n", images, o.Out, time.Since(t0).Round(time.Millisecond))
	return nil
}
