package main

import (
	"context"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/models"
)

func runRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("rm", usageRemove, stderr)
	if err := cli.ParseArgs(fset, args, 1, 1, "NAME", usageRemove); err != nil {
		return err
	}
	name := fset.Arg(0)
	if name == models.DefaultName {
		return cli.Usagef("%s is embedded in the binaries and cannot be removed", name)
	}
	if err := models.ValidName(name); err != nil {
		return cli.Usagef("%v", err)
	}
	st := cli.ModelStore()
	if err := st.Remove(name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %s from %s\n", name, st.Dir)
	return nil
}
