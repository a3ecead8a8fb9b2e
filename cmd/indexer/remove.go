package main

import (
	"context"
	"fmt"
	"io"
)

func runRemove(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlags("remove", stderr)
	data := dataFlag(fset)
	sf := storeFlag(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		return usagef("remove: no PATH given\nusage: %s", usageRemove)
	}
	lib, err := openLibrary(*data, false, sf, warnLogger(stderr))
	if err != nil {
		return err
	}
	defer lib.Close()
	n, missing, err := lib.Remove(fset.Args())
	for _, p := range missing {
		fmt.Fprintf(stderr, "not indexed: %s\n", p)
	}
	fmt.Fprintf(stdout, "removed %d images\n", n)
	return err
}
