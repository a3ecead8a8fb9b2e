package store

import (
	"errors"
	"time"

	"github.com/glimpse-search/glimpse/store/hnsw"
)

// SchemaVersion is the on-disk layout version this build reads and writes.
// Opening a version-1 file converts its graphs to this layout in one
// transaction.
const SchemaVersion = 2

// Options configures Open. Zero fields take the documented defaults.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	// Default 2s.
	Timeout time.Duration
	// NoSync skips fsync on commit: faster, but a power loss (not a process
	// crash) may lose or corrupt recent batches. Default false; tests only.
	NoSync bool
	// AllocSize is how far the file grows at a time when it needs room.
	// Default 4 MiB (bbolt's own default, 16 MiB, leaves up to 16 MiB of
	// preallocated tail in small libraries). Larger: fewer truncate calls.
	AllocSize int
	// Index sets the HNSW parameters of namespaces. M is fixed when a
	// namespace is created and read back from the file afterwards.
	// Defaults: see hnsw.Options.
	Index hnsw.Options
	// Backend holds the namespaces' image vectors (see Backend and
	// OpenBackend). Default nil: the embedded HNSW graphs in this file.
	// The DB closes it.
	Backend Backend
	// ReadOnly opens an existing file for reading: the lock is shared, so
	// several readers may hold it at once but no writer while they do, and
	// every write fails (ErrReadOnly). A missing namespace is ErrNoNamespace;
	// an empty or schema-1 file must be opened for writing once first.
	// Default false.
	ReadOnly bool
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.AllocSize <= 0 {
		o.AllocSize = 4 << 20
	}
	return o
}

// ModelInfo identifies the model whose embeddings a namespace holds.
type ModelInfo struct {
	Name       string // bundle name, e.g. "tiny-scenes"; the default namespace name
	Dim        int    // embedding dimension
	BundleHash string // content hash of the model bundle
}

// NamespaceOptions configures DB.Namespace.
type NamespaceOptions struct {
	// Name of the namespace. Default: the model name.
	Name string
	// NewOnMismatch: when the namespace exists with another model, use (or
	// create) the namespace "<name>@<first 12 chars of the bundle hash>"
	// instead of failing with ErrModelMismatch. Default false.
	NewOnMismatch bool
	// NoCreate: fail with ErrNoNamespace instead of creating a missing
	// namespace. Default false.
	NoCreate bool
}

var (
	// ErrSchema: the file was written with an unknown schema version or is
	// not a Glimpse database.
	ErrSchema = errors.New("store: unsupported schema")
	// ErrCorrupt: the file is damaged (bad pages, truncated, undecodable
	// records or graph).
	ErrCorrupt = errors.New("store: database corrupt")
	// ErrModelMismatch: the namespace holds embeddings of another model.
	ErrModelMismatch = errors.New("store: model mismatch")
	// ErrNoNamespace: the namespace does not exist and NoCreate was set.
	ErrNoNamespace = errors.New("store: no such namespace")
	// ErrReadOnly: a write to a database opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store: database opened read-only")
	// ErrNotFound: no record with that id or path.
	ErrNotFound = errors.New("store: not found")
	// ErrNoVector: an image was added without a vector and its content has
	// no embedding in the namespace yet.
	ErrNoVector = errors.New("store: missing vector")
	// ErrDimension: a vector's length differs from the model dimension.
	ErrDimension = errors.New("store: vector dimension mismatch")
	// ErrClosed: the DB was closed.
	ErrClosed = errors.New("store: database closed")
	// ErrLocked: another process holds the file's lock (bbolt allows one
	// writing process) and Options.Timeout passed.
	ErrLocked = errors.New("store: database locked")
)
