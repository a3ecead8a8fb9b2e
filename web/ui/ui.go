package ui

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS is the web interface, rooted so that index.html is at its top. It is read-only and safe
// for concurrent use.
var FS fs.FS = mustSub(static, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // a constant, valid directory name: unreachable
	}
	return s
}
