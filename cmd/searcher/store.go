package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/glimpse-search/glimpse/store"
)

// registerStore adds --store and --store-key-file (where the image vectors live) with their
// environment defaults.
func (sf *searchFlags) registerStore(fset *flag.FlagSet) {
	fset.StringVar(&sf.store, "store", os.Getenv(envStore),
		"vector backend the library was indexed into: embedded (default) or weaviate://HOST:PORT[,HOST:PORT...][?...] (default $"+envStore+")")
	fset.StringVar(&sf.storeKeyFile, "store-key-file", os.Getenv(envStoreKeyFile),
		"file holding the vector backend's API key (first line; default $"+envStoreKeyFile+"; none: anonymous)")
}

// backend opens the backend the flags name (nil: embedded). A bad URL is a usage error.
func (sf *searchFlags) backend(log *slog.Logger) (store.Backend, error) {
	key, err := store.ReadKeyFile(sf.storeKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--store-key-file: %w", err)
	}
	b, err := store.OpenBackend(sf.store, store.BackendOptions{APIKey: key, Logger: log})
	if errors.Is(err, store.ErrBackendURL) {
		return nil, &UsageError{Err: fmt.Errorf("--store: %w", err)}
	}
	return b, err
}
