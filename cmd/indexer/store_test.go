package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/store"
)

func TestStoreFlags(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("  s3cret-key-0123456789 \nsecond line\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool   // a UsageError
		want  string // in the error
	}{
		{"bad scheme", []string{"status", "--data", dir, "--store", "postgres://db:5432"}, true, "bad backend URL"},
		{"secret in URL", []string{"remove", "--data", dir, "--store", "weaviate://u:p@h:1", "x"}, true, "credentials"},
		{"missing key file", []string{"status", "--data", dir, "--store", "weaviate://h:1", "--store-key-file", filepath.Join(dir, "nope")}, false, "--store-key-file"},
		{"empty key file", []string{"status", "--data", dir, "--store", "weaviate://h:1", "--store-key-file", empty}, false, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.args...)
			var ue *cli.UsageError
			if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v: want usage=%v containing %q", err, tc.usage, tc.want)
			}
		})
	}
	got, err := store.ReadKeyFile(key)
	if err != nil || got != "s3cret-key-0123456789" {
		t.Fatalf("key %q, %v", got, err)
	}
	// a library indexed embedded refuses to be opened with Weaviate, naming the fix
	data := filepath.Join(dir, "lib")
	if _, _, err := runCmd(t, "add", "--data", data, photos(t)); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, "status", "--data", data, "--store", "weaviate://127.0.0.1:1")
	if err != nil || !strings.Contains(out, "store       weaviate://127.0.0.1:1") || !strings.Contains(out, store.ErrBackendMismatch.Error()) {
		t.Fatalf("status of an embedded library with --store weaviate: %v\n%s", err, out)
	}
}
