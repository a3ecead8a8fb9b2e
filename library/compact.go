package library

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/glimpse-search/glimpse/store"
)

// DefaultCompactRatio is CompactOptions.MaxRatio when zero.
const DefaultCompactRatio = 1.3

// compactMinBytes is the file size below which [Compact] leaves a file alone unless forced:
// there bbolt's fixed pages and its doubling of small files outweigh the data, compacting
// gains little, and the next write grows the file again.
const compactMinBytes = 1 << 20

// CompactOptions configures [Compact]. The zero value is ready to use.
type CompactOptions struct {
	// MaxRatio is how large the database file may be against its live data (the key and
	// value bytes of store.Space: vectors, graph, log and records) before Compact rewrites
	// it. Default DefaultCompactRatio = 1.3. A compacted file is 1.05-1.15x its data; a
	// bulk add in batches of 32 leaves it several times that (free pages, part-filled pages,
	// the preallocated tail: 5.7x after 2,000 scenes). Files under 1 MiB are left alone.
	// Negative: always compact (`indexer compact`). The check reads the whole file.
	MaxRatio float64
	// LockTimeout and NoSync are as in Options (default DefaultLockTimeout = 1s; false).
	LockTimeout time.Duration
	NoSync      bool
}

// Compaction is the outcome of [Compact].
type Compaction struct {
	Before    store.Space // the file before; its data is the same after
	After     int64       // file bytes after (Before.File when not compacted)
	Compacted bool        // whether the file was rewritten
}

// Compact rewrites the database of the data dir without free pages and with full pages
// (store.CompactFile) when it is more than MaxRatio times its data. The copy is written next
// to the file, fsynced and renamed over it, so a crash at any point leaves the old file or the
// new one, whole. The library must not be open, in this process or another: Compact takes
// the lock itself and fails with ErrLocked when another process holds it. `indexer add`
// calls it after a run that wrote to its own database.
func Compact(dir string, o CompactOptions) (Compaction, error) {
	if o.MaxRatio == 0 {
		o.MaxRatio = DefaultCompactRatio
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	lib, err := Open(dir, Options{LockTimeout: o.LockTimeout, NoSync: o.NoSync, NoCreate: true})
	if err != nil {
		return Compaction{}, fmt.Errorf("compact: %w", err)
	}
	s, err := lib.db.Space()
	if cerr := lib.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Compaction{}, fmt.Errorf("compact %s: %w", dir, err)
	}
	c := Compaction{Before: s, After: s.File}
	if o.MaxRatio > 0 && (s.File < compactMinBytes || float64(s.File) <= o.MaxRatio*float64(s.Live())) {
		return c, nil
	}
	p := filepath.Join(dir, DBFile)
	err = store.CompactFile(p, store.Options{Timeout: o.LockTimeout, NoSync: o.NoSync})
	if errors.Is(err, store.ErrLocked) {
		return c, fmt.Errorf("compact: %w: %s is locked by another process: %w", ErrLocked, p, err)
	}
	if err != nil {
		return c, fmt.Errorf("compact %s: %w", dir, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return c, fmt.Errorf("compact %s: %w", dir, err)
	}
	c.After, c.Compacted = st.Size(), true
	return c, nil
}
