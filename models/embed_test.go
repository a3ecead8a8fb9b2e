package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"sort"
	"testing"
)

// TestDefaultBundleHashes checks that every file of the embedded bundle matches the sha256 its
// manifest records, and that the manifest lists every file (nothing unhashed rides along).
func TestDefaultBundleHashes(t *testing.T) {
	b := Default()
	raw, err := fs.ReadFile(b, "model.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name  string            `json:"name"`
		Files map[string]string `json:"files"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("model.json: %v", err)
	}
	if m.Name != DefaultName {
		t.Errorf("name = %q, want %q", m.Name, DefaultName)
	}
	for _, want := range []string{"vision.onnx", "text.onnx", "itm.onnx", "vocab.txt", "golden.json"} {
		if _, ok := m.Files[want]; !ok {
			t.Errorf("manifest lists no %s", want)
		}
	}
	var onDisk []string
	err = fs.WalkDir(b, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "model.json" {
			return err
		}
		onDisk = append(onDisk, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(onDisk)
	var total int
	for _, p := range onDisk {
		want, ok := m.Files[p]
		if !ok {
			t.Errorf("%s is in the bundle but not in the manifest", p)
			continue
		}
		data, err := fs.ReadFile(b, p)
		if err != nil {
			t.Fatal(err)
		}
		total += len(data)
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, manifest says %s", p, got, want)
		}
	}
	if len(onDisk) != len(m.Files) {
		t.Errorf("manifest lists %d files, bundle has %d", len(m.Files), len(onDisk))
	}
	if total > 20<<20 {
		t.Errorf("bundle is %d bytes, over the 20 MB budget", total)
	}
}
