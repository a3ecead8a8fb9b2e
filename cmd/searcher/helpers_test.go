package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-search/glimpse/models"
)

// copyBundle writes the embedded default bundle into a temporary directory.
func copyBundle(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	err := fs.WalkDir(models.Default(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(models.Default(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// rewrite edits a JSON file of the bundle in dir and, unless it is model.json, updates its
// sha256 in the manifest so that only the edit is wrong.
func rewrite(tb testing.TB, dir, name string, edit func(v map[string]any)) {
	tb.Helper()
	write := func(name string, v any) []byte {
		out, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			tb.Fatal(err)
		}
		return out
	}
	read := func(name string) map[string]any {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			tb.Fatal(err)
		}
		return v
	}
	v := read(name)
	edit(v)
	data := write(name, v)
	if name == "model.json" {
		return
	}
	m := read("model.json")
	sum := sha256.Sum256(data)
	m["files"].(map[string]any)[name] = hex.EncodeToString(sum[:])
	write("model.json", m)
}
