package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRemove(t *testing.T) {
	src := photos(t)
	data := t.TempDir()
	if _, _, err := runCmd(t, "add", "--data", data, src); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "remove", "--data", data, filepath.Join(src, "rocket.jpg"), filepath.Join(src, "nope.jpg"))
	if err != nil || !strings.Contains(out, "removed 1 images") || !strings.Contains(errOut, "not indexed: ") {
		t.Fatalf("got %q %q %v", out, errOut, err)
	}
	out, _, err = runCmd(t, "remove", "--data", data, src)
	if err != nil || !strings.Contains(out, "removed 6 images") {
		t.Fatalf("folder: %q %v", out, err)
	}
}
