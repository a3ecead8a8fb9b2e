package indexer

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/store"
)

// process examines one file: it returns the item to store, or nil after reporting why the
// file needs nothing (unchanged) or cannot be indexed.
func (ix *Indexer) process(j job, t *tally) *item {
	it, err := ix.safePrepare(j)
	switch {
	case err != nil:
		var fe *FileError
		reason := err.Error()
		if errors.As(err, &fe) {
			reason = fe.Op + ": " + fe.Err.Error()
		}
		t.file(FileResult{Path: j.path, Status: statusOf(err), Reason: reason})
		return nil
	case it.status == StatusUnchanged && !it.refill:
		t.file(FileResult{Path: j.path, Status: StatusUnchanged})
		return nil
	}
	return it
}

// safePrepare is prepare with a panic (a decoder bug on a crafted file) turned into that
// file's failure: one photo never takes the run, or a server with its index job, down.
func (ix *Indexer) safePrepare(j job) (it *item, err error) {
	defer func() {
		if r := recover(); r != nil {
			ix.o.Logger.Error("panic while reading a file", "path", j.path, "panic", r, "stack", string(debug.Stack()))
			it, err = nil, &FileError{Op: "decode", Path: j.path, Err: fmt.Errorf("internal error (panic: %v)", r)}
		}
	}()
	return ix.prepare(j)
}

// prepareHook, when set by a test, runs first in prepare (a seam to inject a panic).
var prepareHook func(path string)

func (ix *Indexer) prepare(j job) (*item, error) {
	if prepareHook != nil {
		prepareHook(j.path)
	}
	if j.err != nil {
		return nil, j.err
	}
	fail := func(op string, err error) (*item, error) { return nil, &FileError{Op: op, Path: j.path, Err: err} }
	info := j.info
	if !info.Mode().IsRegular() {
		return fail("stat", fmt.Errorf("%w (%s)", ErrNotRegular, info.Mode().Type()))
	}
	if info.Size() == 0 {
		return fail("stat", ErrEmpty)
	}
	if info.Size() > ix.o.MaxBytes {
		return fail("stat", fmt.Errorf("%w: %d bytes, over %d", encoder.ErrTooLarge, info.Size(), ix.o.MaxBytes))
	}
	if rec, ok, err := ix.cat.Lookup(j.path); err != nil {
		return fail("lookup", err)
	} else if ok && rec.Size == info.Size() && rec.ModTime.Equal(info.ModTime()) {
		ix.repairThumb(j.path, rec.SHA256)
		// tokens missing from a cache with room are filled; a full cache would only evict others
		// (a library past the budget would re-encode part of itself on every rerun)
		tokens := ix.tokens != nil && !ix.tokens.Has(rec.ContentID) && !ix.tokens.Full()
		if !tokens && !ix.missingCopy(rec.ContentID) {
			return &item{status: StatusUnchanged}, nil
		}
		return ix.prepareRefill(j.path, rec, tokens)
	}
	data, info, err := readFile(j.path, ix.o.MaxBytes)
	if err != nil {
		return fail("read", err)
	}
	format := photo.Sniff(data)
	if format == "" {
		return fail("probe", fmt.Errorf("%w: content is not JPEG, PNG, GIF, WebP, BMP, TIFF or HEIF", ErrNotImage))
	}
	sha := sha256.Sum256(data)
	dup, err := ix.cat.HasContent(sha)
	if err != nil {
		return fail("lookup", err)
	}
	d, err := ix.decode(data, format, !dup)
	if err != nil {
		return fail("decode", err)
	}
	it := &item{status: StatusDuplicate, rec: store.ImageRecord{Path: j.path, SHA256: sha, Size: info.Size(),
		ModTime: info.ModTime(), Width: d.w, Height: d.h, Captured: d.captured}}
	if dup {
		return it, nil
	}
	if err := ix.preprocess(it, d.model, true); err != nil {
		return fail("preprocess", err)
	}
	if err := ix.thumbnail(d.img, sha); err != nil {
		ix.o.Logger.Warn("cannot write thumbnail", "path", j.path, "stage", "thumbnail", "err", err)
	}
	return it, nil
}

// readFile reads a regular file of at most max bytes, returning the size and mtime of the
// open file (so a file replaced during the walk is recorded as read).
func readFile(path string, max int64) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !info.Mode().IsRegular():
		return nil, nil, fmt.Errorf("%w (%s)", ErrNotRegular, info.Mode().Type())
	case info.Size() > max:
		return nil, nil, fmt.Errorf("%w: %d bytes, over %d", encoder.ErrTooLarge, info.Size(), max)
	case info.Size() == 0:
		return nil, nil, ErrEmpty
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, fmt.Errorf("%w (the file changed while being read?)", err)
	}
	return data, info, nil
}

// repairThumb makes the thumbnail of an unchanged file again when it is missing or empty (a
// crash between a thumbnail's rename and its data reaching the disk, or a deleted thumbs
// folder). Best effort: a failure is logged, the file stays unchanged.
func (ix *Indexer) repairThumb(path string, sha [32]byte) {
	if ix.o.ThumbSize < 0 {
		return
	}
	if st, err := os.Stat(ix.lib.ThumbPath(sha)); err == nil && st.Size() > 0 {
		return
	}
	data, _, err := readFile(path, ix.o.MaxBytes)
	if err == nil {
		var d decoded
		if d, err = ix.decode(data, photo.Sniff(data), true); err == nil {
			err = ix.thumbnail(d.img, sha)
		}
	}
	if err != nil {
		ix.o.Logger.Warn("cannot remake a missing thumbnail", "path", path, "err", err)
	}
}

// prepareRefill decodes an unchanged file whose content's tokens the cache lacks (tokens), for
// the encoder to compute them, or whose model-resolution copy is missing, to make it; the file
// stays unchanged. A file that no longer reads or decodes is left to the query that needs it
// (its record is not touched here).
func (ix *Indexer) prepareRefill(path string, rec store.ImageRecord, tokens bool) (*item, error) {
	unchanged := &item{status: StatusUnchanged}
	data, _, err := readFile(path, ix.o.MaxBytes)
	if err != nil || sha256.Sum256(data) != rec.SHA256 {
		return unchanged, nil
	}
	d, err := ix.decode(data, photo.Sniff(data), true)
	if err != nil {
		return unchanged, nil
	}
	it := &item{status: StatusUnchanged, refill: true, rec: rec}
	if err := ix.preprocess(it, d.model, tokens); err != nil || it.pix == nil && it.copy == nil {
		return unchanged, nil
	}
	return it, nil
}
