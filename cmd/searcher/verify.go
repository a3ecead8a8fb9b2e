package main

import (
	"context"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/models"
)

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("verify-model", usageVerify+"\nNAME|DIR is an installed model or a bundle folder (default: $"+cli.EnvModel+", else the embedded "+models.DefaultName+").", stderr)
	var mf cli.ModelFlags
	mf.Register(fset, "")
	asJSON := fset.Bool("json", false, "print the checks as one JSON object")
	goldenFile := fset.String("golden", "", "verify against this golden file (golden.json's format; image paths relative to "+
		"its folder; no sha256 check) instead of the bundle's, e.g. an upstream implementation's outputs")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 1 {
		return cli.Usagef("verify-model takes at most one bundle directory, got %q", fset.Args())
	}
	return cli.VerifyModel(ctx, mf, fset.Arg(0), *goldenFile, *asJSON, stdout, stderr)
}
