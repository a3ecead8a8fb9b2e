package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt meta page layout (go.etcd.io/bbolt internal/common): a 16-byte page
// header, then magic, version, page size, flags (4 bytes each), root bucket
// (16), freelist pgid, high-water pgid, txid, checksum (8 each).
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	metaOff        = 16
	metaChecksumAt = metaOff + 56
)

// precheck reads the two meta pages of an existing file before handing it
// to bbolt, which panics (or faults on the mmap) on some damaged or
// truncated files. It rejects non-bbolt files and files shorter than their
// newest valid meta page says.
func precheck(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return nil // bbolt initialises empty files
	}
	var best *boltMeta
	page := int64(4096)
	for i := range int64(2) {
		buf := make([]byte, 4096)
		if _, err := f.ReadAt(buf, i*page); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		m, ok := parseMeta(buf)
		if i == 0 && ok {
			page = int64(m.pageSize)
		}
		if ok && (best == nil || m.txid > best.txid) {
			best = &m
		}
	}
	if best == nil {
		return fmt.Errorf("no valid bbolt meta page (not a Glimpse database): %w", ErrCorrupt)
	}
	if need := int64(best.pgid) * int64(best.pageSize); need > st.Size() {
		return fmt.Errorf("file is %d bytes but its pages need %d (truncated): %w", st.Size(), need, ErrCorrupt)
	}
	return nil
}

type boltMeta struct {
	pageSize   uint32
	pgid, txid uint64
}

func parseMeta(b []byte) (boltMeta, bool) {
	le := binary.LittleEndian
	if le.Uint32(b[metaOff:]) != boltMagic || le.Uint32(b[metaOff+4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(b[metaOff:metaChecksumAt])
	if h.Sum64() != le.Uint64(b[metaChecksumAt:]) {
		return boltMeta{}, false
	}
	m := boltMeta{pageSize: le.Uint32(b[metaOff+8:]), pgid: le.Uint64(b[metaOff+40:]), txid: le.Uint64(b[metaOff+48:])}
	if m.pageSize < 1024 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, false
	}
	return m, true
}
