package photo

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrUnsupported: the bytes are not an image in a supported format, or are corrupt.
	ErrUnsupported = errors.New("unsupported image")
	// ErrTooLarge: the image (pixels, decoded bytes) or the file (bytes) exceeds a cap.
	ErrTooLarge = errors.New("image too large")
)
