package indexer

import (
	"errors"

	"github.com/glimpse-search/glimpse/store"
)

// Catalog is where an [Indexer] looks up and stores images. The default is the library's
// database ([store.DB] and the model's [store.Namespace]); the seam lets a running server
// (which holds the database lock) take the batches instead, and tests inject failures.
// Implementations must be safe for concurrent use; AddImages is called from one goroutine.
type Catalog interface {
	// Lookup returns the record stored for path; ok is false when there is none.
	Lookup(path string) (rec store.ImageRecord, ok bool, err error)
	// HasContent reports whether a file with this sha256 is already embedded.
	HasContent(sha [32]byte) (bool, error)
	// AddImages stores one batch atomically (store.Namespace.AddImages semantics: Vector nil
	// for contents already embedded).
	AddImages(batch []store.NewImage) error
}

var _ Catalog = (*dbCatalog)(nil)

// dbCatalog is the Catalog of an open database and namespace.
type dbCatalog struct {
	db *store.DB
	ns *store.Namespace
}

func (c *dbCatalog) Lookup(path string) (store.ImageRecord, bool, error) {
	r, err := c.db.ImageByPath(path)
	if errors.Is(err, store.ErrNotFound) {
		return r, false, nil
	}
	return r, err == nil, err
}

func (c *dbCatalog) HasContent(sha [32]byte) (bool, error) {
	id, ok, err := c.db.ContentID(sha)
	if err != nil || !ok {
		return false, err
	}
	return c.ns.HasContent(id), nil
}

func (c *dbCatalog) AddImages(batch []store.NewImage) error {
	_, err := c.ns.AddImages(batch)
	return err
}
