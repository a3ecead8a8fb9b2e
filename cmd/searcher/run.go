package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/models"
)

// UsageError marks a command-line mistake (exit status 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// progPrefix heads the line main prints for an error. Errors of package searcher begin with it
// already (the package is named like the program), so it is never printed twice.
const progPrefix = "searcher: "

// errorLine is the line main prints for err: the program's prefix once, then the message.
func errorLine(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, progPrefix) {
		return msg
	}
	return progPrefix + msg
}

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

// Environment variables; read here only.
const (
	envORTLib = "GLIMPSE_ORT_LIB"  // the ONNX Runtime library
	envData   = indexer.EnvDataDir // the default data dir

	envStore        = "GLIMPSE_STORE"          // default --store
	envStoreKeyFile = "GLIMPSE_STORE_KEY_FILE" // default --store-key-file
)

// defaultDataDir is the data dir when neither --data nor GLIMPSE_DATA is set.
const defaultDataDir = indexer.DefaultDataDir

// command is one subcommand; each lives in its own file.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"verify-model", "searcher verify-model [--device cpu|cuda] [--threads N] [--json] [DIR]",
		"check that the runtime reproduces a bundle's golden outputs", runVerify},
	{"score", "searcher score --image FILE --text TEXT [--model DIR] [--json] [--device cpu|cuda] [--threads N]",
		"print the image-text match probabilities", runScore},
	{"query", usageQuery, "find indexed images that match a text (ITC top-K, ITM rerank, images under --min-score left out)", runQuery},
	{"similar", usageSimilar, "find indexed images similar to an image (ITC)", runSimilar},
	{"caption", usageCaption, "find indexed texts that describe an image (ITC top-K, ITM rerank, texts under --min-score left out)", runCaption},
	{"explain", usageExplain, "write a heat map of where the ITM head looks for a text in an image", runExplain},
	{"eval", usageEval, "index a captioned dataset and report Flickr30k retrieval recalls (ITC and reranked)", runEval},
}

func usageText() string {
	var b strings.Builder
	b.WriteString("usage: searcher <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-13s %s\n      %s\n", c.name, c.summary, c.usage)
	}
	b.WriteString("\nenvironment:\n  " + envORTLib + "  path of libonnxruntime.so.1 (default: the `make setup` cache)\n  " +
		envData + "     default data dir (else ./" + defaultDataDir + ")\n  " +
		envStore + "    default --store (embedded, or weaviate://HOST:PORT...)\n  " +
		envStoreKeyFile + "  default --store-key-file\n")
	return b.String()
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("missing command; available commands: %s\n%s", commandNames(), usageText())
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText())
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) { // -h: flag has printed the usage
				return nil
			}
			return err
		}
	}
	return usagef("unknown command %q; available commands: %s", args[0], commandNames())
}

// modelFlags are the flags every model-running command shares.
type modelFlags struct {
	device  string
	threads int
}

func (m *modelFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&m.device, "device", encoder.DeviceCPU, "execution device: cpu or cuda (falls back to cpu with a warning)")
	fset.IntVar(&m.threads, "threads", 0, "ONNX Runtime intra-op threads per graph (0: one per physical core)")
}

// parseFlags parses args, turning flag errors into usage errors (flag has printed them).
func parseFlags(fset *flag.FlagSet, args []string) error {
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err}
	}
	return nil
}

// bundleFS returns the bundle in dir, or the embedded default when dir is empty.
func bundleFS(dir string) (fs.FS, string, error) {
	if dir == "" {
		return models.Default(), "embedded " + models.DefaultName, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("model bundle: %w", err)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("model bundle %s is not a directory", dir)
	}
	return os.DirFS(dir), dir, nil
}

// openModel loads the bundle and creates its sessions, logging warnings to stderr.
func openModel(dir string, mf modelFlags, stderr io.Writer) (*encoder.Model, fs.FS, string, error) {
	fsys, label, err := bundleFS(dir)
	if err != nil {
		return nil, nil, "", err
	}
	if mf.device != encoder.DeviceCPU && mf.device != encoder.DeviceCUDA {
		return nil, nil, "", usagef("--device %q: want cpu or cuda", mf.device)
	}
	if mf.threads < 0 {
		return nil, nil, "", usagef("--threads %d: must be >= 0", mf.threads)
	}
	m, err := encoder.Open(fsys, encoder.Options{
		LibraryPath:    os.Getenv(envORTLib),
		Device:         mf.device,
		IntraOpThreads: mf.threads,
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("load model %s: %w", label, err)
	}
	return m, fsys, label, nil
}
