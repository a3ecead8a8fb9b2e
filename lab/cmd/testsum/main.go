package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, ErrFailed):
		os.Exit(1)
	case errors.Is(err, ErrUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
}
