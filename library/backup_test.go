package library_test

import (
	"archive/tar"
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/library/librarytest"
)

// TestBackupRestore backs a library up while another run is indexing into it, restores the
// archive into a new folder and checks that the copy opens, passes the database check and
// holds a consistent state; then a backup of the quiet library restores to the same photos,
// embeddings and thumbnails.
func TestBackupRestore(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	librarytest.WriteScenes(t, a, 0, 20, 40)
	librarytest.WriteScenes(t, b, 20, 40, 40)
	lib := testLib(t, "")
	index(t, lib, a)
	m, info := testModel(t)

	ix, err := indexer.New(lib, m, info, indexer.Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ix.Add(context.Background(), []string{b}); done <- err }()
	var hot bytes.Buffer
	if _, err := lib.Backup(&hot); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	hotDir := filepath.Join(t.TempDir(), "hot")
	if _, err := library.Restore(&hot, hotDir); err != nil {
		t.Fatalf("restore of a backup taken while indexing: %v", err)
	}
	hl := testLib(t, hotDir)
	if n := hl.DB().ImageCount(); n < 20 || n > 60 {
		t.Fatalf("the hot backup holds %d images, want between 20 and 60", n)
	}
	hl.Close()

	var quiet bytes.Buffer
	sum, err := lib.Backup(&quiet)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	rs, err := library.Restore(bytes.NewReader(quiet.Bytes()), dir)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Thumbnails != sum.Thumbnails || sum.Thumbnails != 60 || rs.DBBytes != sum.DBBytes {
		t.Fatalf("backup %+v, restore %+v", sum, rs)
	}
	rl := testLib(t, dir)
	if got, want := librarytest.Paths(t, rl.DB()), librarytest.Paths(t, lib.DB()); !slices.Equal(got, want) {
		t.Fatalf("restored %d paths, the library has %d", len(got), len(want))
	}
	rix, _ := indexer.New(rl, m, info, indexer.Options{})
	if rix.Namespace().Len() != ix.Namespace().Len() || librarytest.BrokenThumbs(t, rl) != 0 {
		t.Fatalf("restored %d embeddings (library %d), %d broken thumbnails", rix.Namespace().Len(), ix.Namespace().Len(), librarytest.BrokenThumbs(t, rl))
	}
	if s := index(t, rl, a, b); s.Unchanged != 60 {
		t.Fatalf("a run over the restored library: %+v, want every file unchanged", s)
	}

	if _, err := library.Restore(bytes.NewReader(quiet.Bytes()), dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty folder: %v", err)
	}
	for name, entry := range map[string]*tar.Header{
		"path outside": {Name: "../evil", Size: 1, Typeflag: tar.TypeReg},
		"other file":   {Name: "notes.txt", Size: 1, Typeflag: tar.TypeReg},
		"symlink":      {Name: library.ThumbsDir + "/ab/" + strings.Repeat("a", 64) + ".jpg", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink},
	} {
		var bad bytes.Buffer
		tw := tar.NewWriter(&bad)
		tw.WriteHeader(entry)
		if entry.Size > 0 {
			tw.Write([]byte("x"))
		}
		tw.Close()
		if _, err := library.Restore(&bad, filepath.Join(t.TempDir(), "x")); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
}
