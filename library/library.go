package library

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/store"
)

// Names inside a data dir.
const (
	DBFile      = "glimpse.db"
	ThumbsDir   = "thumbs"
	LastRunFile = "last-run.json"
)

// DefaultDir is the data dir the binaries use when neither a flag nor the environment names
// one (relative to the working directory).
const DefaultDir = "glimpse-data"

// ErrLocked: another process (a server or an indexer) holds the data dir's database.
var ErrLocked = errors.New("data dir in use by another process")

// DefaultLockTimeout is Options.LockTimeout when zero.
const DefaultLockTimeout = time.Second

// Options configures [Open]. The zero value is ready to use.
type Options struct {
	// LockTimeout is how long to wait for another process's lock on the database before
	// failing with ErrLocked (default DefaultLockTimeout = 1s).
	LockTimeout time.Duration
	// NoSync skips fsync on commit (tests and benchmarks only; see store.Options.NoSync).
	NoSync bool
	// NoCreate fails with an error wrapping fs.ErrNotExist when the data dir has no database,
	// instead of creating one (for commands that only read or remove). Default false.
	NoCreate bool
	// ReadOnly opens the database for reading only (store.Options.ReadOnly; implies NoCreate):
	// several readers may hold it at once, and no writer while they do. Writes fail. The read
	// side (searching from the command line) opens a library this way. Default false.
	ReadOnly bool
	// Backend holds the image vectors (store.OpenBackend; the library closes it). Default nil:
	// the embedded graphs in the database file. A library stays with the backend it was
	// first indexed with (store.ErrBackendMismatch otherwise).
	Backend store.Backend
}

// Library is a data dir: the database (DIR/glimpse.db), the thumbnails
// (DIR/thumbs/ab/<sha256>.jpg) and the last run's summary (DIR/last-run.json). It holds the
// database's lock until Close: exclusive, or shared when opened ReadOnly. A Library is safe for
// concurrent use.
type Library struct {
	dir    string
	db     *store.DB
	noSync bool // Options.NoSync: files are not fsynced either
}

// Open opens (creating it when missing) the data dir. When another process holds the
// database it fails within LockTimeout with an error wrapping ErrLocked that names the dir.
func Open(dir string, o Options) (*Library, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	p := filepath.Join(dir, DBFile)
	if o.NoCreate || o.ReadOnly {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("data dir %s: no database (nothing indexed there yet?): %w", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := store.Open(p, store.Options{Timeout: o.LockTimeout, NoSync: o.NoSync, ReadOnly: o.ReadOnly,
		Backend: o.Backend})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: %s is locked by another process (a running server or indexer); "+
			"stop it or wait for it to finish, then retry: %w", ErrLocked, p, err)
	}
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	return &Library{dir: dir, db: db, noSync: o.NoSync}, nil
}

// Dir returns the data dir.
func (l *Library) Dir() string { return l.dir }

// DB returns the open database.
func (l *Library) DB() *store.DB { return l.db }

// Close releases the database and its lock.
func (l *Library) Close() error { return l.db.Close() }

// ThumbPath returns where the thumbnail of the content with this hash lives. Thumbnails are
// keyed by content, so duplicates share one.
func (l *Library) ThumbPath(sha [32]byte) string { return ThumbPath(l.dir, sha) }

// ThumbPath is [Library.ThumbPath] for a data dir that is not open.
func ThumbPath(dataDir string, sha [32]byte) string {
	h := hex.EncodeToString(sha[:])
	return filepath.Join(dataDir, ThumbsDir, h[:2], h+".jpg")
}

// ModelInfo identifies a bundle for the store's namespaces without loading its graphs: the
// manifest's name and embedding dimension, and the sha256 of model.json (which lists the
// sha256 of every bundle file, so it changes whenever any file does).
func ModelInfo(bundle fs.FS) (store.ModelInfo, error) {
	raw, err := fs.ReadFile(bundle, "model.json")
	if err != nil {
		return store.ModelInfo{}, fmt.Errorf("%w: read model.json: %v", encoder.ErrBadBundle, err)
	}
	m, err := encoder.ParseManifest(raw)
	if err != nil {
		return store.ModelInfo{}, err
	}
	sum := sha256.Sum256(raw)
	return store.ModelInfo{Name: m.Name, Dim: m.EmbeddingDim, BundleHash: hex.EncodeToString(sum[:])}, nil
}

// WriteFile writes data to path (a file inside the data dir, such as a thumbnail) atomically,
// fsynced unless the library was opened with NoSync.
func (l *Library) WriteFile(path string, data []byte) error {
	return WriteFileAtomic(path, data, !l.noSync)
}

// WriteFileAtomic writes data to path through a temporary file in the same (existing)
// folder and a rename, so readers never see a partial file; with sync the bytes are on disk
// before the name is.
func WriteFileAtomic(path string, data []byte, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync() // the bytes are on disk before the name is: a crash leaves no empty file
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// TokensDir is the folder under a data dir that holds the token caches, one folder per
// namespace and bundle (see TokenDir).
const TokensDir = "tokens"

// CopiesDir is the folder under a data dir that holds the model-resolution copies of photos,
// one folder per namespace and bundle (see CopyDir).
const CopiesDir = "copies"

// TokenDir is where the ITM image tokens of the bundle identified by info, in the store
// namespace named namespace, are cached: DIR/tokens/<namespace>-<first 12 of the bundle hash>.
// The indexer fills it as it embeds and the searcher reads it; tokens of another bundle never
// share a folder.
func TokenDir(dataDir, namespace string, info store.ModelInfo) string {
	return filepath.Join(dataDir, TokensDir, modelFolder(namespace, info))
}

// CopyDir is where the indexer's model-resolution copies of photos for the bundle identified by
// info, in the store namespace named namespace, live (indexer.TokensCopies):
// DIR/copies/<namespace>-<first 12 of the bundle hash>, named as [TokenDir]. A copy is the
// image as that bundle's preprocessing sees it, so another bundle starts a folder of its own.
// One file per content: [CopyPath].
func CopyDir(dataDir, namespace string, info store.ModelInfo) string {
	return filepath.Join(dataDir, CopiesDir, modelFolder(namespace, info))
}

// CopyExt is the extension of the files in a [CopyDir] (JPEG).
const CopyExt = ".jpg"

// CopyPath is the file in the copy folder dir ([CopyDir]) of the content with this id
// (store.ImageRecord.ContentID, which the store never reuses): the id in hex, as the token
// cache names its files, and CopyExt.
func CopyPath(dir string, contentID uint64) string {
	return filepath.Join(dir, strconv.FormatUint(contentID, 16)+CopyExt)
}

// modelFolder is the folder name of a namespace and bundle under TokensDir and CopiesDir.
func modelFolder(namespace string, info store.ModelInfo) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, namespace+"-"+info.BundleHash[:min(12, len(info.BundleHash))])
}
