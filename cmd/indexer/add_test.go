package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// photos copies the sample photos into a temporary folder with two bad files.
func photos(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "encoder", "testdata", "photos")
	for _, n := range []string{"astronaut.png", "camera.png", "chelsea.png", "coffee.png", "horse.png",
		"hubble_deep_field.jpg", "rocket.jpg"} {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.jpg"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.png"), nil, 0o644)
	return dir
}

func TestAdd(t *testing.T) {
	src := photos(t)
	data := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.jsonl")
	out, _, err := runCmd(t, "add", "--data", data, "--workers", "2", "--threads", "1", "--batch", "3", "--report", report, src)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "9 files: 7 indexed, 0 unchanged, 0 duplicate, 2 skipped, 0 failed") {
		t.Errorf("summary: %q", out)
	}
	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	statuses := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct{ Path, Status, Reason *string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Path == nil || r.Status == nil || r.Reason == nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		statuses[filepath.Base(*r.Path)] = *r.Status
	}
	if len(statuses) != 9 || statuses["notes.jpg"] != "skipped" || statuses["empty.png"] != "skipped" ||
		statuses["rocket.jpg"] != "indexed" {
		t.Errorf("report: %v", statuses)
	}
	out, _, err = runCmd(t, "add", "--data", data, src)
	if err != nil || !strings.Contains(out, "0 indexed, 7 unchanged") {
		t.Errorf("rerun: %q %v", out, err)
	}
}

func TestAddDataFromEnv(t *testing.T) {
	data := t.TempDir()
	t.Setenv(cli.EnvData, data)
	src := t.TempDir()
	b, _ := os.ReadFile(filepath.Join("..", "..", "encoder", "testdata", "photos", "rocket.jpg"))
	os.WriteFile(filepath.Join(src, "r.jpg"), b, 0o644)
	if _, _, err := runCmd(t, "add", src); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, library.DBFile)); err != nil {
		t.Fatalf("database not in $%s: %v", cli.EnvData, err)
	}
}

func TestAddLocked(t *testing.T) {
	data := t.TempDir()
	db, err := store.Open(filepath.Join(data, library.DBFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, _, err = runCmd(t, "add", "--data", data, photos(t))
	if err == nil || !strings.Contains(err.Error(), "data dir "+data+" is in use by another process") {
		t.Fatalf("got %v, want a clear lock error naming %s", err, data)
	}
}

// TestAddModelMismatch: a data dir indexed with another bundle is refused, unchanged, with a
// hint the command line can act on.
func TestAddModelMismatch(t *testing.T) {
	data := t.TempDir()
	db, err := store.Open(filepath.Join(data, library.DBFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other := store.ModelInfo{Name: "tiny-scenes", Dim: 128, BundleHash: strings.Repeat("ab", 32)}
	if _, err := db.Namespace(other, store.NamespaceOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCmd(t, "add", "--data", data, "--workers", "1", "--threads", "1", photos(t))
	if !errors.Is(err, store.ErrModelMismatch) || !strings.Contains(err.Error(), "index into a new data dir (--data)") {
		t.Fatalf("got %v, want a model mismatch with a hint", err)
	}
	db, err = store.Open(filepath.Join(data, library.DBFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.ImageCount(); n != 0 {
		t.Errorf("%d images recorded by a refused run", n)
	}
}
