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
	envAPIKey = "GLIMPSE_API_KEY" // the key for handing jobs to a running server

	envStore        = "GLIMPSE_STORE"          // default --store
	envStoreKeyFile = "GLIMPSE_STORE_KEY_FILE" // default --store-key-file
)

// defaultDataDir is the data dir when neither --data nor GLIMPSE_DATA is set.
const defaultDataDir = indexer.DefaultDataDir

type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Usage lines of the subcommands.
const (
	usageAdd      = "indexer add [--data DIR] [--model DIR] [--workers N] [--encoders N] [--threads N] [--batch N] [--report FILE] [--max-pixels N] [--api-key-file FILE] [--store URL] PATH..."
	usageAddTexts = "indexer add-texts [--data DIR] [--store URL] [--model DIR] FILE"
	usageRemove   = "indexer remove [--data DIR] [--store URL] PATH..."
	usageStatus   = "indexer status [--data DIR] [--store URL] [--model DIR] [--json]"
	usageCompact  = "indexer compact [--data DIR]"
	usageBackup   = "indexer backup [--data DIR] --to FILE [--api-key-file FILE]"
	usageRestore  = "indexer restore --from FILE [--data NEWDIR]"
)

var commands = []command{
	{"add", usageAdd, "index the photos in folders or files", runAdd},
	{"add-texts", usageAddTexts, "store texts (one per line, or JSON lines {\"id\",\"text\"}) with their embeddings", runAddTexts},
	{"remove", usageRemove, "remove the records of files or folders", runRemove},
	{"status", usageStatus, "show counts, model, sizes and the last run", runStatus},
	{"compact", usageCompact, "rewrite the database file without its free space", runCompact},
	{"backup", usageBackup, "write the library as a tar archive, also while a server runs", runBackup},
	{"restore", usageRestore, "extract a backup into a new data dir and check it", runRestore},
}

func usageText() string {
	var b strings.Builder
	b.WriteString("usage: indexer <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n      %s\n", c.name, c.summary, c.usage)
	}
	b.WriteString("\nenvironment:\n  " + envData + "     default data dir (else ./" + defaultDataDir + ")\n  " +
		envORTLib + "  path of libonnxruntime.so.1 (default: the `make setup` cache)\n  " +
		envAPIKey + "  API key for handing `add` to a running server (else --api-key-file)\n  " +
		envStore + "    default --store: where the image vectors live (embedded, or weaviate://HOST:PORT...)\n  " +
		envStoreKeyFile + "  default --store-key-file: the vector backend's API key\n")
	return b.String()
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("missing command\n%s", usageText())
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText())
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			if errors.Is(err, store.ErrModelMismatch) {
				return fmt.Errorf("%w\nThe data dir was indexed with another model bundle (a new release of the "+
					"default model counts as another): index into a new data dir (--data), or remove this one "+
					"and index again", err)
			}
			return err
		}
	}
	return usagef("unknown command %q\n%s", args[0], usageText())
}

// newFlags returns a flag set writing its messages to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
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
	return nil
}

// dataFlag registers --data with its environment default.
func dataFlag(fset *flag.FlagSet) *string {
	return fset.String("data", indexer.DataDir(""), "data dir holding the database and thumbnails (default $"+envData+", else ./"+defaultDataDir+")")
}

func modelFlag(fset *flag.FlagSet) *string {
	return fset.String("model", "", "model bundle folder (default: the embedded "+models.DefaultName+")")
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

// openModel loads the bundle's graphs and identifies it for the store.
// threads is the intra-op thread count of each graph (0: ONNX Runtime's default, one per core).
func openModel(dir string, img encoder.ImageOptions, threads int, stderr io.Writer) (*encoder.Model, store.ModelInfo, error) {
	fsys, label, err := bundleFS(dir)
	if err != nil {
		return nil, store.ModelInfo{}, err
	}
	info, err := indexer.ModelInfo(fsys)
	if err != nil {
		return nil, info, fmt.Errorf("model %s: %w", label, err)
	}
	m, err := encoder.Open(fsys, encoder.Options{
		LibraryPath:    os.Getenv(envORTLib),
		Image:          img,
		IntraOpThreads: threads,
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, info, fmt.Errorf("load model %s: %w", label, err)
	}
	return m, info, nil
}

// openLibrary opens the data dir (creating it only when create is set) with the vector backend
// the store flags name, turning a lock held elsewhere into a clear message.
func openLibrary(dir string, create bool, sf *storeFlags, log *slog.Logger) (*indexer.Library, error) {
	b, err := sf.backend(log)
	if err != nil {
		return nil, err
	}
	lib, err := indexer.OpenLibrary(dir, indexer.LibraryOptions{NoCreate: !create, Backend: b})
	if err != nil && b != nil {
		b.Close()
	}
	return lib, inUse(dir, err)
}

// inUse turns an error wrapping indexer.ErrLocked into a clear message; other errors pass.
func inUse(dir string, err error) error {
	if errors.Is(err, indexer.ErrLocked) {
		return fmt.Errorf("data dir %s is in use by another process (a running server or another indexer "+
			"holds its database); stop it or wait for it to finish, then run this command again\n(%w)", dir, err)
	}
	return err
}
