package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestore: `indexer backup` of a data dir, directly and through the server that owns
// it (with its key), then `indexer restore` into new data dirs gives libraries with the same
// images, embeddings and thumbnails.
func TestBackupRestore(t *testing.T) {
	src := scenes(t, 30)
	data := t.TempDir()
	if _, errOut, err := runCmd(t, "add", "--data", data, src); err != nil {
		t.Fatalf("add: %v %s", err, errOut)
	}
	want := statusJSON(t, data)
	arch := filepath.Join(t.TempDir(), "lib.tar")
	out, errOut, err := runCmd(t, "backup", "--data", data, "--to", arch)
	if err != nil || !strings.Contains(out, "30 thumbnails") {
		t.Fatalf("backup: %q %q %v", out, errOut, err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if out, errOut, err := runCmd(t, "restore", "--from", arch, "--data", restored); err != nil || !strings.Contains(out, "checked") {
		t.Fatalf("restore: %q %q %v", out, errOut, err)
	}
	got := statusJSON(t, restored)
	if got.Images != want.Images || got.Images != 30 || got.Embeddings != want.Embeddings {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	if _, _, err := runCmd(t, "restore", "--from", arch, "--data", restored); err == nil {
		t.Fatal("restore into a non-empty data dir succeeded")
	}

	// through a running server, which holds the database
	sdata, lib := startServer(t)
	if _, errOut, err := runCmd(t, "add", "--data", sdata, "--api-key-file", keyFile(t), src); err != nil {
		t.Fatalf("add through the server: %v %s", err, errOut)
	}
	if _, _, err := runCmd(t, "backup", "--data", sdata, "--to", arch+"2"); err == nil {
		t.Fatal("a backup through the server without a key succeeded")
	}
	out, errOut, err = runCmd(t, "backup", "--data", sdata, "--to", arch+"2", "--api-key-file", keyFile(t))
	if err != nil || !strings.Contains(out, "through the running server") {
		t.Fatalf("backup through the server: %q %q %v", out, errOut, err)
	}
	r2 := filepath.Join(t.TempDir(), "r2")
	if _, errOut, err := runCmd(t, "restore", "--from", arch+"2", "--data", r2); err != nil {
		t.Fatalf("restore: %v %s", err, errOut)
	}
	if s := statusJSON(t, r2); s.Images != lib.DB().ImageCount() || s.Images != 30 {
		t.Fatalf("restored from the server's backup: %+v", s)
	}
	if _, err := os.Stat(arch + "2.partial"); !os.IsNotExist(err) {
		t.Fatalf("partial archive left: %v", err)
	}
}

// keyFile writes the test server's API key to a file.
func keyFile(t *testing.T) string {
	t.Helper()
	kf := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(kf, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return kf
}
