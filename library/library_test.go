package library_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/store"
)

// TestOpenReadOnly: readers share a data dir, a writer waits for them (ErrLocked naming the
// dir), a reader cannot write, and a data dir without a database is not created for a reader.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	w, err := library.Open(dir, library.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	info := store.ModelInfo{Name: "m", Dim: 4, BundleHash: "h"}
	if _, err := w.DB().Namespace(info, store.NamespaceOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ro := library.Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond}
	r1, err := library.Open(dir, ro)
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := library.Open(dir, ro)
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	defer r2.Close()
	if _, err := library.Open(dir, library.Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, library.ErrLocked) {
		t.Fatalf("a writer beside readers: %v, want ErrLocked", err)
	}
	if _, err := r1.DB().Namespace(store.ModelInfo{Name: "other", Dim: 4, BundleHash: "x"}, store.NamespaceOptions{}); !errors.Is(err, store.ErrNoNamespace) {
		t.Fatalf("creating a namespace read-only: %v", err)
	}
	if _, _, err := r1.Remove([]string{filepath.Join(dir, "x.jpg")}); err != nil {
		t.Fatalf("removing nothing read-only: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "none")
	if _, err := library.Open(empty, ro); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only open of a dir without a database: %v", err)
	}
}

// TestModelDirs: the token cache and the copies of a namespace and bundle are sibling folders
// of the same name (the namespace made safe for a file name, then 12 characters of the bundle
// hash), and a copy is named by its content id in hex.
func TestModelDirs(t *testing.T) {
	cases := []struct {
		name, namespace, hash, want string
	}{
		{"plain", "tiny-scenes", "0123456789abcdef", "tiny-scenes-0123456789ab"},
		{"separators", "org/model:v2", "ffff", "org_model_v2-ffff"},
		{"backslash", `a\b`, "0123456789abcdef0", "a_b-0123456789ab"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := store.ModelInfo{Name: "m", Dim: 4, BundleHash: c.hash}
			if got, want := library.TokenDir("/d", c.namespace, info), filepath.Join("/d", library.TokensDir, c.want); got != want {
				t.Errorf("TokenDir = %s, want %s", got, want)
			}
			if got, want := library.CopyDir("/d", c.namespace, info), filepath.Join("/d", library.CopiesDir, c.want); got != want {
				t.Errorf("CopyDir = %s, want %s", got, want)
			}
		})
	}
	if got, want := library.CopyPath("/c", 0x2a), filepath.Join("/c", "2a.jpg"); got != want {
		t.Errorf("CopyPath = %s, want %s", got, want)
	}
}
