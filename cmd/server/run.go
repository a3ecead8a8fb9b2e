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
	"github.com/glimpse-search/glimpse/store"
)

// UsageError marks a command-line mistake (exit status 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// Environment variables; read here only.
const (
	envData   = indexer.EnvDataDir
	envORTLib = "GLIMPSE_ORT_LIB"
)

// defaultDataDir is the data dir when neither --data nor GLIMPSE_DATA is set.
const defaultDataDir = indexer.DefaultDataDir

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
			"      send searches to a server and report throughput and latency (server load -h)\n\nenvironment:\n"+
			"  %s     default data dir (else ./%s)\n  %s  path of libonnxruntime.so.1 (default: the `make setup` cache)\n",
			usageServe, usageLoad, envData, defaultDataDir, envORTLib)
		fmt.Fprintln(stdout, "\nflags of server:")
		var sf serveFlags
		fset := newFlags("server", usageServe, stdout)
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

// newFlags returns a flag set writing its messages to stderr, printing usage on -h.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage:", usage)
		fset.PrintDefaults()
	}
	return fset
}

// parseFlags parses args, turning flag errors into usage errors (flag has printed them).
func parseFlags(fset *flag.FlagSet, args []string) error {
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err}
	}
	if fset.NArg() > 0 {
		return usagef("%s: unexpected arguments %q", fset.Name(), fset.Args())
	}
	return nil
}

// listFlag is a repeatable flag; commas also separate values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// modelFlags are the flags that load the model.
type modelFlags struct {
	dir, device string
	threads     int
	// store and storeKeyFile name the vector backend (--store, --store-key-file; serve only).
	store, storeKeyFile string
}

func (m *modelFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&m.dir, "model", "", "model bundle folder (default: the embedded "+models.DefaultName+"); must be the indexing model")
	fset.StringVar(&m.device, "device", encoder.DeviceCPU, "execution device: cpu or cuda (falls back to cpu with a warning)")
	fset.IntVar(&m.threads, "threads", 0, "ONNX Runtime intra-op threads per graph (0: one per physical core)")
}

func (m *modelFlags) validate() error {
	if m.device != encoder.DeviceCPU && m.device != encoder.DeviceCUDA {
		return usagef("--device %q: want cpu or cuda", m.device)
	}
	if m.threads < 0 {
		return usagef("--threads %d: must be >= 0", m.threads)
	}
	return nil
}

// open loads the bundle and identifies it for the store.
func (m *modelFlags) open(log *slog.Logger) (*encoder.Model, store.ModelInfo, error) {
	fsys, label := models.Default(), "embedded "+models.DefaultName
	if m.dir != "" {
		st, err := os.Stat(m.dir)
		if err != nil {
			return nil, store.ModelInfo{}, fmt.Errorf("model bundle: %w", err)
		}
		if !st.IsDir() {
			return nil, store.ModelInfo{}, fmt.Errorf("model bundle %s is not a directory", m.dir)
		}
		fsys, label = os.DirFS(m.dir), m.dir
	}
	return openBundle(fsys, label, m, log)
}

func openBundle(fsys fs.FS, label string, m *modelFlags, log *slog.Logger) (*encoder.Model, store.ModelInfo, error) {
	info, err := indexer.ModelInfo(fsys)
	if err != nil {
		return nil, info, fmt.Errorf("model %s: %w", label, err)
	}
	mod, err := encoder.Open(fsys, encoder.Options{LibraryPath: os.Getenv(envORTLib), Device: m.device,
		IntraOpThreads: m.threads, Logger: log})
	if err != nil {
		return nil, info, fmt.Errorf("load model %s: %w", label, err)
	}
	return mod, info, nil
}
