package library_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-search/glimpse/library/librarytest"

	"github.com/glimpse-search/glimpse/internal/fixture"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// testModel is the embedded default bundle, opened once per test process.
func testModel(tb testing.TB) (*encoder.Model, store.ModelInfo) { return fixture.Model(tb) }

// testLib opens a library in dir (a temporary one when "") and closes it at cleanup.
func testLib(tb testing.TB, dir string) *library.Library { return librarytest.Open(tb, dir) }

// index adds roots to lib with the default model.
func index(tb testing.TB, lib *library.Library, roots ...string) indexer.Summary {
	tb.Helper()
	m, info := testModel(tb)
	ix, err := indexer.New(lib, m, info, indexer.Options{Workers: 2})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ix.Add(context.Background(), roots)
	if err != nil {
		tb.Fatalf("add: %v", err)
	}
	return s
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}
