package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
)

// Usage lines.
const (
	usageServe = "server [--data DIR] [--addr 127.0.0.1:8080] [--model DIR] [--device cpu|cuda] [--api-key-file FILE] [--read-key-file FILE] " +
		"[--store URL] [--allowed-host NAME]... [--cors-origin ORIGIN]... [--rate R] [--burst N] [--rate-exempt-loopback] " +
		"[--index-root DIR]... [flags]"
	usageLoad = "server load [--url URL | --data DIR] [--n 1000] [--concurrency 8] [--queries FILE] [--k K] [--limit N] [--hostile N]"
)

// Run executes the command line args (without the program name): serve, or a subcommand.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var err error
	switch {
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		fmt.Fprintf(stdout, "usage:\n  %s\n      serve the API and the web interface (server -h lists the flags)\n  %s\n"+
			"      send searches to a server and report throughput and latency (server load -h)\n\n%s",
			usageServe, usageLoad, cli.EnvHelp(cli.EnvData, cli.EnvORTLib, cli.EnvStore, cli.EnvStoreKeyFile))
		fmt.Fprintln(stdout, "\nflags of server:")
		var sf serveFlags
		fset := cli.NewFlags("server", usageServe, stdout)
		sf.register(fset)
		fset.SetOutput(stdout)
		fset.PrintDefaults()
		return nil
	case len(args) > 0 && args[0] == "load":
		err = runLoad(ctx, args[1:], stdout, stderr)
	default:
		err = runServe(ctx, args, stdout, stderr)
	}
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
