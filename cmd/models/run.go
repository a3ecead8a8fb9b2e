package main

import (
	"context"
	"io"

	"github.com/glimpse-search/glimpse/internal/cli"
)

// Usage lines of the subcommands.
const (
	usageList   = "models list [--json]"
	usagePull   = "models pull NAME [--precision fp32|int8] [--force] [--endpoint URL] [--python PATH] [--stall-timeout D] [--keep-download]"
	usageVerify = "models verify [--device cpu|cuda] [--threads N] [--json] NAME"
	usageRemove = "models rm NAME"
)

var program = cli.Program{
	Name: "models",
	Commands: []cli.Command{
		{Name: "list", Usage: usageList, Summary: "list the installed models and those the catalogue can pull", Run: runList},
		{Name: "pull", Usage: usagePull, Summary: "download a catalogue model from its hub, export it to a bundle, verify and install it", Run: runPull},
		{Name: "verify", Usage: usageVerify, Summary: "check that the runtime reproduces an installed model's golden outputs", Run: runVerify},
		{Name: "rm", Usage: usageRemove, Summary: "remove an installed model", Run: runRemove},
	},
	Env: []string{cli.EnvModels, cli.EnvORTLib, cli.EnvHFEndpoint, cli.EnvHFToken, cli.EnvModelScopeEndpoint, cli.EnvPython},
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return program.Dispatch(ctx, args, stdout, stderr)
}
