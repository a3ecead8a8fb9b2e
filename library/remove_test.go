package library_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-search/glimpse/library/librarytest"
	"github.com/glimpse-search/glimpse/store"
)

// TestRemoveImage removes records by id: the thumbnail goes with the last image of a content
// and stays while a duplicate shares it; an unknown id is store.ErrNotFound.
func TestRemoveImage(t *testing.T) {
	src := t.TempDir()
	librarytest.WriteScenes(t, src, 0, 2, 48)
	b, err := os.ReadFile(filepath.Join(src, "scene-00000.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "copy.png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	lib := testLib(t, "")
	index(t, lib, src)
	orig, err := lib.DB().ImageByPath(filepath.Join(src, "scene-00000.png"))
	if err != nil {
		t.Fatal(err)
	}
	dup, err := lib.DB().ImageByPath(filepath.Join(src, "copy.png"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := lib.RemoveImage(orig.ID); err != nil || r.Path != orig.Path {
		t.Fatalf("remove: %+v %v", r, err)
	}
	if _, err := os.Stat(lib.ThumbPath(orig.SHA256)); err != nil {
		t.Fatalf("thumbnail of a content still indexed removed: %v", err)
	}
	if _, err := lib.RemoveImage(dup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lib.ThumbPath(orig.SHA256)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("thumbnail kept after its last image: %v", err)
	}
	if _, err := lib.RemoveImage(dup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if n := lib.DB().ImageCount(); n != 1 {
		t.Fatalf("%d images left, want 1", n)
	}
}
