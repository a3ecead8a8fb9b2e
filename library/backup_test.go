package indexer

import (
	"archive/tar"
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBackupRestore backs a library up while another run is indexing into it, restores the
// archive into a new folder and checks that the copy opens, passes the database check and
// holds a consistent state; then a backup of the quiet library restores to the same photos,
// embeddings and thumbnails.
func TestBackupRestore(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeScenes(t, a, 0, 20, 40)
	writeScenes(t, b, 20, 40, 40)
	lib := testLib(t, "")
	run(t, lib, Options{}, a)
	m, info := testModel(t)

	ix, err := New(lib, m, info, Options{Batch: 4})
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
	if _, err := Restore(&hot, hotDir); err != nil {
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
	rs, err := Restore(bytes.NewReader(quiet.Bytes()), dir)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Thumbnails != sum.Thumbnails || sum.Thumbnails != 60 || rs.DBBytes != sum.DBBytes {
		t.Fatalf("backup %+v, restore %+v", sum, rs)
	}
	rl := testLib(t, dir)
	if got, want := paths(t, rl.DB()), paths(t, lib.DB()); !slices.Equal(got, want) {
		t.Fatalf("restored %d paths, the library has %d", len(got), len(want))
	}
	rix, _ := New(rl, m, info, Options{})
	if rix.Namespace().Len() != ix.Namespace().Len() || brokenThumbs(t, rl) != 0 {
		t.Fatalf("restored %d embeddings (library %d), %d broken thumbnails", rix.Namespace().Len(), ix.Namespace().Len(), brokenThumbs(t, rl))
	}
	if s, _ := run(t, rl, Options{}, a, b); s.Unchanged != 60 {
		t.Fatalf("a run over the restored library: %+v, want every file unchanged", s)
	}

	if _, err := Restore(bytes.NewReader(quiet.Bytes()), dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty folder: %v", err)
	}
	for name, entry := range map[string]*tar.Header{
		"path outside": {Name: "../evil", Size: 1, Typeflag: tar.TypeReg},
		"other file":   {Name: "notes.txt", Size: 1, Typeflag: tar.TypeReg},
		"symlink":      {Name: ThumbsDir + "/ab/" + strings.Repeat("a", 64) + ".jpg", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink},
	} {
		var bad bytes.Buffer
		tw := tar.NewWriter(&bad)
		tw.WriteHeader(entry)
		if entry.Size > 0 {
			tw.Write([]byte("x"))
		}
		tw.Close()
		if _, err := Restore(&bad, filepath.Join(t.TempDir(), "x")); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
}
