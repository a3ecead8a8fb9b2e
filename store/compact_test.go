package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestCompactFileFailure: a compaction that fails before its rename, or a crash that left a
// half-written copy behind, leaves the original file whole and usable; the copy is removed.
func TestCompactFileFailure(t *testing.T) {
	errRename := errors.New("injected rename failure")
	cases := []struct {
		name    string
		before  func(t *testing.T, path string) // runs before the compaction
		rename  func(oldpath, newpath string) error
		wantErr error
	}{
		{name: "rename fails", rename: func(string, string) error { return errRename }, wantErr: errRename},
		{name: "half copy left by a crash", rename: os.Rename, before: func(t *testing.T, path string) {
			if err := os.WriteFile(path+".compact", []byte("half a page"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "g.db")
			vecs := clustered(620, testModel.Dim, 8, 3)
			db := openTest(t, path)
			ns := nsTest(t, db)
			addN(t, ns, vecs, 0, 600, 20)
			want := searchAll(t, ns, vecs[600:])
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.before != nil {
				tc.before(t, path)
			}
			err := compactFile(path, Options{NoSync: true}, tc.rename)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("compact: %v, want %v", err, tc.wantErr)
			}
			if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
				t.Fatalf("copy left behind: %v", err)
			}
			db = openTest(t, path)
			if n := db.ImageCount(); n != 600 {
				t.Fatalf("%d images after, want 600", n)
			}
			if got := searchAll(t, nsTest(t, db), vecs[600:]); !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatal("search results changed")
			}
		})
	}
}

// TestCompactRaceWithOpen performs the race: another opener arrives while a compaction holds the
// file and is about to rename its copy over it. It must wait and then open the new file whole,
// not the old, unlinked one (which it would read as truncated).
func TestCompactRaceWithOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	vecs := clustered(2020, testModel.Dim, 8, 3)
	db := openTest(t, path)
	ns := nsTest(t, db)
	for i := 0; i < 3; i++ { // grow, then delete, so the compacted copy is much smaller
		addN(t, ns, vecs, 0, 2000, 100)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	type opened struct {
		db  *DB
		err error
	}
	got := make(chan opened, 1)
	started := make(chan struct{})
	rename := func(oldpath, newpath string) error {
		go func() { // the other process: opens the path now, while the old file is still there
			close(started)
			d, err := Open(path, Options{NoSync: true, Timeout: 20 * time.Second})
			got <- opened{d, err}
		}()
		<-started
		time.Sleep(100 * time.Millisecond) // let it reach the lock
		return os.Rename(oldpath, newpath)
	}
	if err := compactFile(path, Options{NoSync: true}, rename); err != nil {
		t.Fatal(err)
	}
	o := <-got
	if o.err != nil {
		t.Fatalf("open during the compaction: %v", o.err)
	}
	defer o.db.Close()
	if n := o.db.ImageCount(); n != 2000 {
		t.Fatalf("%d images, want 2000", n)
	}
}
