package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestReadOnly opens a database read-only: two readers at once, no writer while they hold it,
// searches work, and every write, a missing namespace and a missing file fail with clear errors.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "glimpse.db")
	m := ModelInfo{Name: "m", Dim: 4, BundleHash: "h"}
	db, err := Open(p, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := db.Namespace(m, NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.AddImages([]NewImage{{Record: ImageRecord{Path: "/a.png", SHA256: [32]byte{1}}, Vector: []float32{1, 0, 0, 0}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ro := Options{ReadOnly: true, Timeout: 50 * time.Millisecond}
	r1, err := Open(p, ro)
	if err != nil {
		t.Fatalf("first reader: %v", err)
	}
	defer r1.Close()
	r2, err := Open(p, ro)
	if err != nil {
		t.Fatalf("second reader beside the first: %v", err)
	}
	defer r2.Close()
	if _, err := Open(p, Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("writer while readers hold the file: %v, want ErrLocked", err)
	}
	rns, err := r1.Namespace(m, NamespaceOptions{})
	if err != nil {
		t.Fatalf("namespace of a read-only file: %v", err)
	}
	hits, err := rns.SearchImages([]float32{1, 0, 0, 0}, 1, 16, nil)
	if err != nil || len(hits) != 1 {
		t.Fatalf("search: %v %v", hits, err)
	}
	if _, err := rns.AddImages([]NewImage{{Record: ImageRecord{Path: "/b.png", SHA256: [32]byte{2}}, Vector: []float32{0, 1, 0, 0}}}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("add on a read-only file: %v, want ErrReadOnly", err)
	}
	if err := r1.DeleteImage(1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("delete on a read-only file: %v, want ErrReadOnly", err)
	}
	if _, err := r1.Namespace(ModelInfo{Name: "other", Dim: 4, BundleHash: "x"}, NamespaceOptions{}); !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("missing namespace on a read-only file: %v, want ErrNoNamespace", err)
	}

	if _, err := Open(filepath.Join(dir, "missing.db"), ro); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
}
