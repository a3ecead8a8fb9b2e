package main

import (
	"context"
	"io"
	"strings"

	"github.com/glimpse-search/glimpse/internal/cli"
)

// progPrefix heads the line main prints for an error. Errors of package searcher begin with it
// already (the package is named like the program), so it is never printed twice.
const progPrefix = "searcher: "

// opError adds context (a subcommand's name, a file) to an error: "OP: CAUSE". The cause
// loses package searcher's own prefix, which main prints once in front of the whole line, and
// OP is left out when the cause already begins with it (package searcher's "explain: ...").
// errors.Is and errors.As see the cause.
type opError struct {
	op  string
	err error
}

func wrap(op string, err error) error { return &opError{op: op, err: err} }

func (e *opError) Error() string {
	msg := strings.TrimPrefix(e.err.Error(), progPrefix)
	if strings.HasPrefix(msg, e.op+": ") {
		return msg
	}
	return e.op + ": " + msg
}

func (e *opError) Unwrap() error { return e.err }

// Usage lines of the subcommands that have no file of flags of their own.
const (
	usageVerify = "searcher verify-model [--device cpu|cuda] [--threads N] [--golden FILE] [--json] [NAME|DIR]"
	usageScore  = "searcher score --image FILE --text TEXT [--model NAME|DIR] [--json] [--device cpu|cuda] [--threads N]"
)

var program = cli.Program{
	Name: "searcher",
	Commands: []cli.Command{
		{Name: "verify-model", Usage: usageVerify, Summary: "check that the runtime reproduces a bundle's golden outputs", Run: runVerify},
		{Name: "score", Usage: usageScore, Summary: "print the image-text match probabilities", Run: runScore},
		{Name: "query", Usage: usageQuery, Summary: "find indexed images that match a text (ITC top-K, ITM rerank, images under --min-score left out)", Run: runQuery},
		{Name: "similar", Usage: usageSimilar, Summary: "find indexed images similar to an image (ITC)", Run: runSimilar},
		{Name: "caption", Usage: usageCaption, Summary: "find indexed texts that describe an image (ITC top-K, ITM rerank, texts under --min-score left out)", Run: runCaption},
		{Name: "explain", Usage: usageExplain, Summary: "write a heat map of where the ITM head looks for a text in an image", Run: runExplain},
		{Name: "eval", Usage: usageEval, Summary: "index a captioned dataset and report Flickr30k retrieval recalls (ITC and reranked)", Run: runEval},
	},
	Env: []string{cli.EnvData, cli.EnvORTLib, cli.EnvStore, cli.EnvStoreKeyFile},
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return program.Dispatch(ctx, args, stdout, stderr)
}
