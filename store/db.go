package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta     = []byte("meta")
	bucketImages   = []byte("images")
	bucketPaths    = []byte("paths")
	bucketContents = []byte("contents")
	bucketTexts    = []byte("texts")
	bucketNS       = []byte("ns")

	keySchema      = []byte("schema")
	keyNextImage   = []byte("next_image")
	keyNextText    = []byte("next_text")
	keyNextContent = []byte("next_content")
)

// DB is an open Glimpse database file. It is safe for concurrent use:
// reads and searches run in parallel, writes are serialised.
type DB struct {
	bolt *bolt.DB
	path string
	o    Options

	wmu sync.Mutex // serialises writers; guards nss
	nss map[string]*Namespace

	mu       sync.RWMutex // guards the in-memory tables below
	imgs     []imageInfo  // indexed by image id
	contents [][]uint64   // content id -> image ids sharing it
	nImages  int
	nTexts   int
	closed   bool
	lock     *fileLock // path + ".lock", held from Open to Close

	nContents int // contents with at least one image (under mu)
}

// imageInfo is the part of an image record that search filters need,
// kept in memory for every image.
type imageInfo struct {
	path     string
	captured int64 // Unix ns, 0 when unknown
	content  uint64
	live     bool
}

// Open opens or creates the database at path. A file that is not a
// Glimpse database, or is damaged or truncated, gives an error wrapping
// ErrCorrupt; an unknown schema version gives ErrSchema.
func Open(path string, o Options) (db *DB, err error) {
	o = o.withDefaults()
	lock, err := lockFile(path+".lock", o.Timeout, o.ReadOnly)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = lock.unlock()
		}
	}()
	if err := precheck(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	bdb, err := openBolt(path, o)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: locked by another process: %w (%w)", path, ErrLocked, err)
		}
		return nil, fmt.Errorf("open %s: not a database or damaged (%v): %w", path, err, ErrCorrupt)
	}
	bdb.AllocSize = o.AllocSize
	db = &DB{bolt: bdb, path: path, o: o, nss: map[string]*Namespace{}, lock: lock}
	if err := db.init(); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// openBolt opens the bbolt file, turning a panic on a damaged file into an
// error. (After such a panic bbolt may keep its file descriptor; precheck
// catches the common cases first.)
func openBolt(path string, o Options) (bdb *bolt.DB, err error) {
	defer recoverCorrupt(&err)
	return bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      o.Timeout,
		NoSync:       o.NoSync,
		ReadOnly:     o.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
}

// init checks the file size and schema, creates the buckets of a new file
// and loads the in-memory tables.
func (db *DB) init() (err error) {
	defer recoverCorrupt(&err)
	st, err := os.Stat(db.path)
	if err != nil {
		return err
	}
	var fresh, upgrade bool
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Size() > st.Size() {
			return fmt.Errorf("file is %d bytes but its pages need %d (truncated): %w", st.Size(), tx.Size(), ErrCorrupt)
		}
		m := tx.Bucket(bucketMeta)
		if m == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("bbolt file without Glimpse meta: %w", ErrSchema)
			}
			fresh = true
			return nil
		}
		v := m.Get(keySchema)
		if len(v) != 4 {
			return fmt.Errorf("missing schema version: %w", ErrSchema)
		}
		got := binary.LittleEndian.Uint32(v)
		upgrade = got == 1 // graphs in the schema-1 layout: converted below
		if got != SchemaVersion && !upgrade {
			return fmt.Errorf("schema version %d, this build reads %d: %w", got, SchemaVersion, ErrSchema)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if (upgrade || fresh) && db.o.ReadOnly {
		what := "an empty file"
		if upgrade {
			what = "schema version 1, converted on the first write open"
		}
		return fmt.Errorf("%s: %w (open it for writing once, e.g. `indexer status`)", what, ErrReadOnly)
	}
	if upgrade {
		if err := db.update(upgradeV1); err != nil {
			return err
		}
	}
	if fresh {
		err = db.update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketMeta, bucketImages, bucketPaths, bucketContents, bucketTexts, bucketNS} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(keySchema, binary.LittleEndian.AppendUint32(nil, SchemaVersion))
		})
		if err != nil {
			return err
		}
	}
	return db.bolt.View(db.loadTables)
}

// packed sets a high fill percent on buckets whose keys mostly arrive in
// ascending order (ids, slots, chunk numbers), so appends leave pages ~90%
// full instead of bbolt's default 50%.
func packed(bs ...*bolt.Bucket) {
	for _, b := range bs {
		b.FillPercent = 0.9
	}
}

// recoverCorrupt turns a panic from bbolt page decoding into ErrCorrupt.
func recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("damaged page (%v): %w", r, ErrCorrupt)
	}
}

// buckets returns the top-level buckets or ErrCorrupt when one is missing.
func buckets(tx *bolt.Tx, names ...[]byte) ([]*bolt.Bucket, error) {
	out := make([]*bolt.Bucket, len(names))
	for i, n := range names {
		if out[i] = tx.Bucket(n); out[i] == nil {
			return nil, fmt.Errorf("bucket %q missing: %w", n, ErrCorrupt)
		}
	}
	return out, nil
}

func (db *DB) loadTables(tx *bolt.Tx) error {
	bs, err := buckets(tx, bucketMeta, bucketImages, bucketPaths, bucketContents, bucketTexts, bucketNS)
	if err != nil {
		return err
	}
	c := bs[1].Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return fmt.Errorf("image key %x: %w", k, ErrCorrupt)
		}
		r, err := decodeImage(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return err
		}
		if r.ID > 1<<40 || r.ContentID > 1<<40 {
			return fmt.Errorf("image %d: id out of range: %w", r.ID, ErrCorrupt)
		}
		db.setImage(&r)
	}
	db.nTexts = bs[4].Stats().KeyN
	return nil
}

// setImage records r in the in-memory tables (caller holds mu or is
// loading).
func (db *DB) setImage(r *ImageRecord) {
	for uint64(len(db.imgs)) <= r.ID {
		db.imgs = append(db.imgs, imageInfo{})
	}
	var cap int64
	if !r.Captured.IsZero() {
		cap = r.Captured.UnixNano()
	}
	db.imgs[r.ID] = imageInfo{path: r.Path, captured: cap, content: r.ContentID, live: true}
	for uint64(len(db.contents)) <= r.ContentID {
		db.contents = append(db.contents, nil)
	}
	db.contents[r.ContentID] = append(db.contents[r.ContentID], r.ID)
	if len(db.contents[r.ContentID]) == 1 {
		db.nContents++
	}
	db.nImages++
}

// dropImage removes image id from the in-memory tables and reports whether
// its content is now unreferenced.
func (db *DB) dropImage(id uint64) (content uint64, orphan bool) {
	if id >= uint64(len(db.imgs)) || !db.imgs[id].live {
		return 0, false
	}
	content = db.imgs[id].content
	db.imgs[id] = imageInfo{}
	ids := db.contents[content]
	for i, v := range ids {
		if v == id {
			ids = append(ids[:i], ids[i+1:]...)
			break
		}
	}
	db.contents[content] = ids
	db.nImages--
	if len(ids) == 0 {
		db.nContents--
	}
	return content, len(ids) == 0
}

// Close closes the file. Namespaces of this DB must not be used after.
// Closing a closed DB does nothing.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.mu.Lock()
	closed := db.closed
	db.closed = true
	db.mu.Unlock()
	if closed {
		return nil
	}
	err := db.bolt.Close()
	if uerr := db.lock.unlock(); err == nil {
		err = uerr
	}
	if db.o.Backend != nil {
		if berr := db.o.Backend.Close(); err == nil {
			err = berr
		}
	}
	return err
}

// Path returns the file path.
func (db *DB) Path() string { return db.path }

// ImageCount returns the number of image records.
func (db *DB) ImageCount() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.nImages
}

// TextCount returns the number of text records.
func (db *DB) TextCount() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.nTexts
}

// FileSize returns the size of the database file in bytes.
func (db *DB) FileSize() (int64, error) {
	st, err := os.Stat(db.path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// nextID increments and returns the counter stored under key in meta.
func nextID(meta *bolt.Bucket, key []byte) (uint64, error) {
	var v uint64
	if b := meta.Get(key); len(b) == 8 {
		v = binary.LittleEndian.Uint64(b)
	}
	v++
	return v, meta.Put(key, binary.LittleEndian.AppendUint64(nil, v))
}

// Check runs bbolt's consistency check of the whole file (every page reachable once, no page both
// free and in use, keys in order) in a read transaction, alongside writers. It returns the first
// errors found, wrapping ErrCorrupt, or nil.
func (db *DB) Check() error {
	var errs []error
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			if len(errs) < 10 {
				errs = append(errs, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %d problems, first %v", ErrCorrupt, len(errs), errors.Join(errs...))
	}
	return nil
}

// Snapshot writes a consistent copy of the database file to w from one read transaction, while
// writers go on, and returns the bytes written. size is called first with the copy's length
// (for an archive header).
func (db *DB) Snapshot(w io.Writer, size func(int64) error) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := size(tx.Size()); err != nil {
			return err
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("snapshot %s: %w", db.path, err)
	}
	return n, nil
}

// update runs fn in a write transaction; ErrReadOnly when the file was opened read-only.
func (db *DB) update(fn func(*bolt.Tx) error) error {
	if db.o.ReadOnly {
		return ErrReadOnly
	}
	return db.bolt.Update(fn)
}
