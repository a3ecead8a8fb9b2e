package library

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/glimpse-search/glimpse/store"
)

// Remove deletes the records of the given paths: a file's record, or every record under a
// folder. Paths are made absolute as `add` stores them. Embeddings and thumbnails whose
// content no other image shares go with them. It returns the number of records removed and
// the paths that matched nothing.
func (l *Library) Remove(paths []string) (removed int, missing []string, err error) {
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return removed, missing, err
		}
		var recs []store.ImageRecord
		if r, err := l.db.ImageByPath(abs); err == nil {
			recs = append(recs, r)
		} else if !errors.Is(err, store.ErrNotFound) {
			return removed, missing, err
		} else if recs, err = l.under(abs); err != nil {
			return removed, missing, err
		}
		if len(recs) == 0 {
			missing = append(missing, p)
		}
		for _, r := range recs {
			if err := l.db.DeleteImage(r.ID); err != nil {
				return removed, missing, fmt.Errorf("remove %s: %w", r.Path, err)
			}
			removed++
			if _, still, err := l.db.ContentID(r.SHA256); err == nil && !still {
				_ = os.Remove(l.ThumbPath(r.SHA256))
			}
		}
	}
	return removed, missing, nil
}

// under returns the records whose path lies inside folder dir.
func (l *Library) under(dir string) ([]store.ImageRecord, error) {
	prefix := strings.TrimSuffix(dir, string(filepath.Separator)) + string(filepath.Separator)
	var out []store.ImageRecord
	for after := uint64(0); ; {
		page, next, err := l.db.Images(after, 4096)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if strings.HasPrefix(r.Path, prefix) {
				out = append(out, r)
			}
		}
		if next == 0 {
			return out, nil
		}
		after = next
	}
}

// RemoveImage deletes one image record by id, with its embedding and thumbnail when no other
// image shares its content. An unknown id gives an error wrapping store.ErrNotFound.
func (l *Library) RemoveImage(id uint64) (store.ImageRecord, error) {
	r, err := l.db.Image(id)
	if err != nil {
		return r, err
	}
	if err := l.db.DeleteImage(id); err != nil {
		return r, fmt.Errorf("remove %s: %w", r.Path, err)
	}
	if _, still, err := l.db.ContentID(r.SHA256); err == nil && !still {
		_ = os.Remove(l.ThumbPath(r.SHA256))
	}
	return r, nil
}
