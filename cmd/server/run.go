package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
)

// usageServe is the server's usage line.
const usageServe = "server [--data DIR] [--addr 127.0.0.1:8080] [--model NAME|DIR] [--device cpu|cuda] [--api-key-file FILE] [--read-key-file FILE] " +
	"[--store URL] [--allowed-host NAME]... [--cors-origin ORIGIN]... [--rate R] [--burst N] [--rate-exempt-loopback] " +
	"[--index-root DIR]... [flags]"

// Run executes the command line args (without the program name): serve.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintf(stdout, "usage: %s\n      serve the API and the web interface\n\n%s\nflags:\n", usageServe,
			cli.EnvHelp(cli.EnvData, cli.EnvModel, cli.EnvModels, cli.EnvORTLib, cli.EnvStore, cli.EnvStoreKeyFile))
		var sf serveFlags
		fset := cli.NewFlags("server", usageServe, stdout)
		sf.register(fset)
		fset.PrintDefaults()
		return nil
	}
	err := runServe(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// openFlags open the data dir's model and vector store.
type openFlags struct {
	model cli.ModelFlags
	store cli.StoreFlags
}
