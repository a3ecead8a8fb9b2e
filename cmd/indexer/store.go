package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/glimpse-search/glimpse/store"
)

// storeFlags are --store and --store-key-file: where the image vectors live.
type storeFlags struct {
	url, keyFile string
}

// storeFlag registers the flags with their environment defaults.
func storeFlag(fset *flag.FlagSet) *storeFlags {
	sf := &storeFlags{}
	fset.StringVar(&sf.url, "store", os.Getenv(envStore),
		"vector backend: embedded (default) or weaviate://HOST:PORT[,HOST:PORT...][?replicas=N&shards=N&consistency=QUORUM&grpc=HOST:PORT,...] (default $"+envStore+")")
	fset.StringVar(&sf.keyFile, "store-key-file", os.Getenv(envStoreKeyFile),
		"file holding the vector backend's API key (first line; default $"+envStoreKeyFile+"; none: anonymous)")
	return sf
}

// backend opens the backend the flags name (nil: embedded). A bad URL is a usage error.
func (sf *storeFlags) backend(log *slog.Logger) (store.Backend, error) {
	key, err := readKeyFile(sf.keyFile)
	if err != nil {
		return nil, err
	}
	b, err := store.OpenBackend(sf.url, store.BackendOptions{APIKey: key, Logger: log})
	if errors.Is(err, store.ErrBackendURL) {
		return nil, &UsageError{Err: fmt.Errorf("--store: %w", err)}
	}
	return b, err
}

// readKeyFile reads the --store-key-file (store.ReadKeyFile), naming the flag in errors.
func readKeyFile(path string) (string, error) {
	key, err := store.ReadKeyFile(path)
	if err != nil {
		return "", fmt.Errorf("--store-key-file: %w", err)
	}
	return key, nil
}

// warnLogger logs warnings to stderr.
func warnLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
