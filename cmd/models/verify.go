package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/models"
)

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("verify", usageVerify, stderr)
	var mf cli.ModelFlags
	mf.Register(fset, "")
	asJSON := fset.Bool("json", false, "print the checks as one JSON object")
	if err := cli.ParseArgs(fset, args, 1, 1, "NAME", usageVerify); err != nil {
		return err
	}
	name := fset.Arg(0)
	if name != models.DefaultName {
		if err := models.ValidName(name); err != nil {
			return cli.Usagef("%v", err)
		}
		if st := cli.ModelStore(); !st.Has(name) {
			return fmt.Errorf("%w: %s (in %s; `models list` shows what is installed)", models.ErrNotInstalled, name, st.Dir)
		}
	}
	return cli.VerifyModel(ctx, mf, name, "", *asJSON, stdout, stderr)
}
