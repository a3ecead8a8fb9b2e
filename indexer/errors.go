package indexer

import (
	"errors"
	"fmt"

	"github.com/glimpse-search/glimpse/encoder"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotImage: the file's content is not a recognised image format.
	ErrNotImage = errors.New("not an image")
	// ErrNotRegular: the path is not a regular file (FIFO, socket, device).
	ErrNotRegular = errors.New("not a regular file")
	// ErrOutside: a symlink leads out of the folders Options.Confine allows.
	ErrOutside = errors.New("symlink to a path outside the allowed folders")
	// ErrEmpty: the file has no bytes.
	ErrEmpty = errors.New("empty file")
	// ErrBadTexts: a texts file line is malformed.
	ErrBadTexts = errors.New("bad texts file")
)

// FileError is the reason one file was skipped or failed; the run goes on. Op is the stage
// ("stat", "read", "probe", "decode", "preprocess", "thumbnail", "store").
type FileError struct {
	Op   string
	Path string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// statusOf says whether a per-file error means the file was deliberately skipped (not an
// image, too large, not a regular file, empty) or failed (unreadable, damaged).
func statusOf(err error) Status {
	for _, s := range []error{ErrNotImage, ErrNotRegular, ErrEmpty, ErrOutside, encoder.ErrTooLarge} {
		if errors.Is(err, s) {
			return StatusSkipped
		}
	}
	return StatusFailed
}
