package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// Usage lines of the subcommands.
const (
	usageAdd      = "indexer add [--data DIR] [--model NAME|DIR] [--workers N] [--encoders N] [--threads N] [--batch N] [--report FILE] [--max-pixels N] [--tokens eager|copies|lazy] [--cache-mb N] [--api-key-file FILE] [--store URL] PATH..."
	usageAddTexts = "indexer add-texts [--data DIR] [--store URL] [--model NAME|DIR] FILE"
	usageRemove   = "indexer remove [--data DIR] [--store URL] PATH..."
	usageStatus   = "indexer status [--data DIR] [--store URL] [--model NAME|DIR] [--json]"
	usageCompact  = "indexer compact [--data DIR]"
	usageBackup   = "indexer backup [--data DIR] --to FILE [--api-key-file FILE]"
	usageRestore  = "indexer restore --from FILE [--data NEWDIR]"
)

var program = cli.Program{
	Name: "indexer",
	Commands: []cli.Command{
		{Name: "add", Usage: usageAdd, Summary: "index the photos in folders or files", Run: runAdd},
		{Name: "add-texts", Usage: usageAddTexts, Summary: "store texts (one per line, or JSON lines {\"id\",\"text\"}) with their embeddings", Run: runAddTexts},
		{Name: "remove", Usage: usageRemove, Summary: "remove the records of files or folders", Run: runRemove},
		{Name: "status", Usage: usageStatus, Summary: "show counts, model, sizes and the last run", Run: runStatus},
		{Name: "compact", Usage: usageCompact, Summary: "rewrite the database file without its free space", Run: runCompact},
		{Name: "backup", Usage: usageBackup, Summary: "write the library as a tar archive, also while a server runs", Run: runBackup},
		{Name: "restore", Usage: usageRestore, Summary: "extract a backup into a new data dir and check it", Run: runRestore},
	},
	Env: []string{cli.EnvData, cli.EnvORTLib, cli.EnvAPIKey, cli.EnvStore, cli.EnvStoreKeyFile},
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := program.Dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, store.ErrModelMismatch) {
		return fmt.Errorf("%w\nThe data dir was indexed with another model bundle (a new release of the "+
			"default model counts as another): index into a new data dir (--data), or remove this one "+
			"and index again", err)
	}
	return err
}

// openModel loads the bundle's graphs and identifies it for the store. threads is the
// intra-op thread count of each graph (0: ONNX Runtime's default, one per core).
func openModel(dir string, img encoder.ImageOptions, threads int, stderr io.Writer) (*encoder.Model, store.ModelInfo, error) {
	mf := cli.ModelFlags{Dir: dir, Device: encoder.DeviceCPU, Threads: threads}
	m, b, err := mf.Open(img, cli.WarnLogger(stderr))
	return m, b.Info, err
}

// libFlags are a subcommand's flag set with --data and, where asked, --store, --store-key-file
// and --model.
type libFlags struct {
	fset  *flag.FlagSet
	data  *string
	store cli.StoreFlags
	model *string
}

func newLibFlags(name, usage string, stderr io.Writer, withStore, withModel bool) *libFlags {
	lf := &libFlags{fset: cli.NewFlags(name, usage, stderr)}
	lf.data = cli.DataFlag(lf.fset, "data dir holding the database and thumbnails")
	if withStore {
		lf.store.Register(lf.fset)
	}
	if withModel {
		lf.model = lf.fset.String("model", "", cli.ModelFlagHelp("the model"))
	}
	return lf
}

// open opens the data dir with the vector backend the flags name.
func (lf *libFlags) open(o library.Options, log *slog.Logger) (*library.Library, error) {
	return lf.store.OpenLibrary(*lf.data, o, log)
}
