package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// StoreFlags are --store and --store-key-file: where a library's image vectors live.
type StoreFlags struct {
	URL, KeyFile string
}

// Register adds the flags with their environment defaults.
func (sf *StoreFlags) Register(fset *flag.FlagSet) {
	fset.StringVar(&sf.URL, "store", os.Getenv(EnvStore),
		"vector backend: embedded (default) or weaviate://HOST:PORT[,HOST:PORT...][?replicas=N&shards=N&consistency=QUORUM&grpc=HOST:PORT,...]; "+
			"a library stays with the backend it was first indexed into (default $"+EnvStore+")")
	fset.StringVar(&sf.KeyFile, "store-key-file", os.Getenv(EnvStoreKeyFile),
		"file holding the vector backend's API key, first line (default $"+EnvStoreKeyFile+"; none: anonymous)")
}

// Backend opens the backend the flags name (nil: embedded). A bad URL is a usage error.
func (sf *StoreFlags) Backend(log *slog.Logger) (store.Backend, error) {
	key, err := store.ReadKeyFile(sf.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("--store-key-file: %w", err)
	}
	b, err := store.OpenBackend(sf.URL, store.BackendOptions{APIKey: key, Logger: log})
	if errors.Is(err, store.ErrBackendURL) {
		return nil, &UsageError{Err: fmt.Errorf("--store: %w", err)}
	}
	return b, err
}

// OpenLibrary opens the data dir with the backend the flags name (o.Backend is set here),
// turning a lock held by another process into a message that says what to do.
func (sf *StoreFlags) OpenLibrary(dir string, o library.Options, log *slog.Logger) (*library.Library, error) {
	b, err := sf.Backend(log)
	if err != nil {
		return nil, err
	}
	o.Backend = b
	lib, err := library.Open(dir, o)
	if err != nil && b != nil {
		b.Close()
	}
	return lib, InUse(dir, err)
}

// InUse turns an error wrapping library.ErrLocked into a clear message; other errors pass.
func InUse(dir string, err error) error {
	if errors.Is(err, library.ErrLocked) {
		return fmt.Errorf("data dir %s is in use by another process (a running server or another indexer "+
			"holds its database); stop it or wait for it to finish, then run this command again\n(%w)", dir, err)
	}
	return err
}
