package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ImageRecord describes one indexed photo. The store assigns ID, ContentID
// and Added; the caller fills the rest.
type ImageRecord struct {
	ID        uint64
	Path      string   // absolute or library-relative path, unique
	SHA256    [32]byte // content hash of the file
	Size      int64    // file size in bytes
	ModTime   time.Time
	Width     int
	Height    int
	Captured  time.Time // EXIF capture time; zero when unknown
	Added     time.Time // when the record was first stored
	ContentID uint64    // images with the same SHA256 share it (and one embedding)
}

// TextRecord is a stored text (caption, note, query log line...).
type TextRecord struct {
	ID     uint64
	Text   string
	Source string // free-form origin, e.g. "caption" or a file path
}

const recordVersion = 1

// Record encoding: a version byte, then varint fields; times as Unix
// nanoseconds with 0 for the zero time. The id is the key, not stored.

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeImage(r *ImageRecord) []byte {
	b := make([]byte, 0, 80+len(r.Path))
	b = append(b, recordVersion)
	b = appendString(b, r.Path)
	b = append(b, r.SHA256[:]...)
	b = binary.AppendVarint(b, r.Size)
	b = appendTime(b, r.ModTime)
	b = binary.AppendUvarint(b, uint64(r.Width))
	b = binary.AppendUvarint(b, uint64(r.Height))
	b = appendTime(b, r.Captured)
	b = appendTime(b, r.Added)
	b = binary.AppendUvarint(b, r.ContentID)
	return b
}

func encodeText(r *TextRecord) []byte {
	b := make([]byte, 0, 4+len(r.Text)+len(r.Source))
	b = append(b, recordVersion)
	b = appendString(b, r.Text)
	return appendString(b, r.Source)
}

// decoder reads the record fields; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("record: %s: %w", what, ErrCorrupt)
	}
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail("short field")
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes(d.uvarint())) }

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *decoder) small() int {
	v := d.uvarint()
	if v > 1<<31 {
		d.fail("value out of range")
	}
	return int(v)
}

func (d *decoder) header() {
	if len(d.b) == 0 || d.b[0] != recordVersion {
		d.fail("unknown record version")
		d.b = nil
		return
	}
	d.b = d.b[1:]
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

// decodeImage decodes a record stored under id. It copies everything out
// of b, so b may be a bbolt value.
func decodeImage(id uint64, b []byte) (ImageRecord, error) {
	d := decoder{b: b}
	d.header()
	r := ImageRecord{ID: id}
	r.Path = d.string()
	copy(r.SHA256[:], d.bytes(32))
	r.Size = d.varint()
	r.ModTime = d.time()
	r.Width = d.small()
	r.Height = d.small()
	r.Captured = d.time()
	r.Added = d.time()
	r.ContentID = d.uvarint()
	if err := d.end(); err != nil {
		return ImageRecord{}, fmt.Errorf("image %d: %w", id, err)
	}
	return r, nil
}

func decodeText(id uint64, b []byte) (TextRecord, error) {
	d := decoder{b: b}
	d.header()
	r := TextRecord{ID: id, Text: d.string(), Source: d.string()}
	if err := d.end(); err != nil {
		return TextRecord{}, fmt.Errorf("text %d: %w", id, err)
	}
	return r, nil
}

// readByID reads and decodes the records of ids from a bucket in one read transaction (see
// DB.ImagesByID). what names a record in errors.
func readByID[R any](db *DB, bucket []byte, what string, ids []uint64,
	decode func(id uint64, b []byte) (R, error)) (recs []R, errs []error) {
	recs = make([]R, len(ids))
	if len(ids) == 0 {
		return recs, nil
	}
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(ids))
		}
		errs[i] = err
	}
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor() // one cursor for all: each Bucket.Get makes its own
		key := make([]byte, 8)
		for i, id := range ids {
			binary.BigEndian.PutUint64(key, id)
			k, v := c.Seek(key)
			if v == nil || !bytes.Equal(k, key) {
				fail(i, fmt.Errorf("%s %d: %w", what, id, ErrNotFound))
				continue
			}
			r, err := decode(id, v)
			if err != nil {
				fail(i, err)
				continue
			}
			recs[i] = r
		}
		return nil
	})
	if err != nil { // no transaction, or a damaged page: nothing was read
		clear(recs)
		for i := range ids {
			fail(i, err)
		}
	}
	return recs, errs
}

func u64key(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u32key(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
