package library

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"time"
)

// BackupSummary says what a backup holds.
type BackupSummary struct {
	DBBytes    int64 `json:"db_bytes"`
	Thumbnails int   `json:"thumbnails"`
	Bytes      int64 `json:"bytes"` // file contents in the archive
}

// Backup writes the library as a tar archive to w while it stays in use: DBFile as one
// consistent snapshot (a read transaction: indexing and searching go on), the thumbnails and
// LastRunFile. The token cache is left out; it is rebuilt as searches need it. So are the
// model-resolution copies (CopiesDir): the next `indexer add` over the same folders writes them
// again, and until then the rerank reads the originals. [Restore] reads the archive back.
func (l *Library) Backup(w io.Writer) (BackupSummary, error) {
	var s BackupSummary
	tw := tar.NewWriter(w)
	now := time.Now()
	n, err := l.db.Snapshot(tw, func(size int64) error {
		return tw.WriteHeader(&tar.Header{Name: DBFile, Mode: 0o600, Size: size, ModTime: now, Typeflag: tar.TypeReg})
	})
	if err != nil {
		return s, fmt.Errorf("backup: %w", err)
	}
	s.DBBytes, s.Bytes = n, n
	add := func(rel string) error {
		f, err := os.Open(filepath.Join(l.dir, rel))
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: st.Size(),
			ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		m, err := io.CopyN(tw, f, st.Size())
		s.Bytes += m
		return err
	}
	if err := add(LastRunFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("backup: %w", err)
	}
	err = filepath.WalkDir(filepath.Join(l.dir, ThumbsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(l.dir, p)
		if d.Type().IsRegular() && thumbEntry.MatchString(filepath.ToSlash(rel)) {
			if err := add(rel); err != nil {
				return err
			}
			s.Thumbnails++
		}
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("backup: thumbnails: %w", err)
	}
	if err := tw.Close(); err != nil {
		return s, fmt.Errorf("backup: %w", err)
	}
	return s, nil
}

// thumbEntry is the name of a thumbnail in a backup archive (and in the data dir).
var thumbEntry = regexp.MustCompile(`^` + ThumbsDir + `/[0-9a-f]{2}/[0-9a-f]{64}\.jpg$`)

// maxThumbBytes caps one thumbnail read back from an archive.
const maxThumbBytes = 16 << 20

// Restore extracts a [Library.Backup] archive into dir, which must not exist or be empty, then
// opens the library and runs the database's consistency check. Only the entries a backup has
// are accepted (DBFile, LastRunFile, thumbnails by content hash): an archive naming anything
// else, a link or a path outside dir is refused, and dir is then removed again.
func Restore(r io.Reader, dir string) (s BackupSummary, err error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return s, fmt.Errorf("restore: %s is not empty; restore into a new folder", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	tr := tar.NewReader(r)
	gotDB := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, fmt.Errorf("restore: read the archive: %w", err)
		}
		name := path.Clean(h.Name)
		limit := int64(maxThumbBytes)
		switch {
		case h.Typeflag != tar.TypeReg:
			return s, fmt.Errorf("restore: entry %q is not a regular file", h.Name)
		case name == DBFile:
			gotDB, limit = true, h.Size
		case name == LastRunFile:
		case thumbEntry.MatchString(name):
			s.Thumbnails++
		default:
			return s, fmt.Errorf("restore: entry %q is not part of a Glimpse backup", h.Name)
		}
		if h.Size > limit {
			return s, fmt.Errorf("restore: entry %q has %d bytes, over %d", h.Name, h.Size, limit)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return s, fmt.Errorf("restore: %w", err)
		}
		n, err := writeEntry(dst, tr, h.Size)
		if err != nil {
			return s, fmt.Errorf("restore: %s: %w", name, err)
		}
		s.Bytes += n
		if name == DBFile {
			s.DBBytes = n
		}
	}
	if !gotDB {
		return s, fmt.Errorf("restore: the archive has no %s", DBFile)
	}
	lib, err := Open(dir, Options{NoCreate: true})
	if err != nil {
		return s, fmt.Errorf("restore: the restored database does not open: %w", err)
	}
	defer lib.Close()
	if err := lib.db.Check(); err != nil {
		return s, fmt.Errorf("restore: %w", err)
	}
	return s, nil
}

// writeEntry writes exactly size bytes of r to a new file at dst, fsynced.
func writeEntry(dst string, r io.Reader, size int64) (int64, error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyN(f, r, size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
