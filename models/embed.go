package models

import (
	"embed"
	"io/fs"
)

//go:embed tiny-scenes
var tinyScenes embed.FS

// DefaultName is the name of the embedded default bundle.
const DefaultName = "tiny-scenes"

// Default returns the embedded tiny-scenes bundle as a file system rooted at the bundle folder
// (model.json at its top). It is read-only and safe for concurrent use.
func Default() fs.FS {
	sub, err := fs.Sub(tinyScenes, DefaultName)
	if err != nil {
		panic("models: embedded bundle missing: " + err.Error()) // broken build, not bad input
	}
	return sub
}
