package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/models"
)

// testLibrary is a data dir with 12 generated scenes indexed (in images/a and images/b) and
// their captions added as texts, built once per test binary.
type testLibrary struct {
	data, gallery string
	files         []string // image files
}

var (
	libOnce sync.Once
	lib     testLibrary
	libErr  error
)

func testLib(tb testing.TB) testLibrary {
	tb.Helper()
	libOnce.Do(func() { libErr = buildLibrary() })
	if libErr != nil {
		tb.Fatal(libErr)
	}
	return lib
}

func buildLibrary() error {
	dir, err := os.MkdirTemp("", "searcher-cmd-test-")
	if err != nil {
		return err
	}
	lib.data, lib.gallery = filepath.Join(dir, "data"), filepath.Join(dir, "gallery")
	if err := scene.Generate(context.Background(), scene.Options{N: 12, Seed: 31, Out: lib.gallery, Size: 96, Negatives: -1}); err != nil {
		return err
	}
	var ds dataset
	raw, err := os.ReadFile(filepath.Join(lib.gallery, "captions.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &ds); err != nil {
		return err
	}
	var texts bytes.Buffer
	for i, im := range ds.Images {
		sub := []string{"a", "b"}[i%2]
		if err := os.MkdirAll(filepath.Join(lib.gallery, sub), 0o755); err != nil {
			return err
		}
		p := filepath.Join(lib.gallery, sub, im.Filename)
		if err := os.Rename(filepath.Join(lib.gallery, "images", im.Filename), p); err != nil {
			return err
		}
		lib.files = append(lib.files, p)
		for _, s := range im.Sentences {
			texts.WriteString(s.Raw + "\n")
		}
	}
	l, err := library.Open(lib.data, library.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer l.Close()
	m, err := encoder.Open(models.Default(), encoder.Options{})
	if err != nil {
		return err
	}
	defer m.Close()
	info, err := library.ModelInfo(models.Default())
	if err != nil {
		return err
	}
	ix, err := indexer.New(l, m, info, indexer.Options{})
	if err != nil {
		return err
	}
	if _, err := ix.Add(context.Background(), []string{lib.gallery}); err != nil {
		return err
	}
	lines, err := indexer.ParseTexts(&texts)
	if err != nil {
		return err
	}
	_, err = ix.AddTexts(context.Background(), lines, "captions")
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if lib.data != "" {
		os.RemoveAll(filepath.Dir(lib.data))
	}
	os.Exit(code)
}

// runJSON runs a command with --json and decodes its output into v.
func runJSON(tb testing.TB, v any, args ...string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{args[0], "--json"}, args[1:]...)
	if err := Run(tb.Context(), full, &out, &errOut); err != nil {
		tb.Fatalf("%q: %v (stderr %s)", args, err, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		tb.Fatalf("%q printed %q: %v", args, out.String(), err)
	}
}
