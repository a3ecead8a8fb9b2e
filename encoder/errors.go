package encoder

import (
	"errors"

	"github.com/glimpse-search/glimpse/photo"
)

// Sentinel errors. Errors returned by this package wrap one of them with the context (field,
// file, input index) that explains it; test with errors.Is.
var (
	// ErrBadBundle: the bundle breaks the contract of docs/models.md (manifest field, missing or
	// altered file, graph whose inputs, outputs or dimensions disagree with the manifest).
	ErrBadBundle = errors.New("bad model bundle")
	// ErrRuntime: ONNX Runtime could not be found, loaded or initialised.
	ErrRuntime = errors.New("onnx runtime unavailable")
	// ErrUnsupportedImage: the bytes are not an image in a supported format, or are corrupt
	// (photo.ErrUnsupported, the same error).
	ErrUnsupportedImage = photo.ErrUnsupported
	// ErrTooLarge: the image (pixels) or file (bytes) exceeds the configured cap
	// (photo.ErrTooLarge).
	ErrTooLarge = photo.ErrTooLarge
	// ErrNoITM: the bundle is a dual encoder without an ITM graph.
	ErrNoITM = errors.New("model has no ITM head")
	// ErrInput: an argument is malformed (wrong tensor length, empty batch element, ...).
	ErrInput = errors.New("invalid encoder input")
)
