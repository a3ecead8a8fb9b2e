package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddTexts(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	plain := filepath.Join(dir, "captions.txt")
	os.WriteFile(plain, []byte("a red circle\na blue square\n"), 0o644)
	jl := filepath.Join(dir, "more.jsonl")
	os.WriteFile(jl, []byte("{\"id\":\"a\",\"text\":\"a cat\"}\n"), 0o644)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"id\":\"a\",\"text\":\"a cat\"}\n\n{\"id\":\"b\",\"text\":\n"), 0o644)

	out, _, err := runCmd(t, "add-texts", "--data", data, plain)
	if err != nil || !strings.Contains(out, "2 texts: 2 added") {
		t.Fatalf("plain: %q %v", out, err)
	}
	out, _, err = runCmd(t, "add-texts", "--data", data, jl)
	if err != nil || !strings.Contains(out, "1 texts: 1 added") {
		t.Fatalf("json lines: %q %v", out, err)
	}
	_, _, err = runCmd(t, "add-texts", "--data", data, bad)
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("bad line: %v, want an error naming the file and line 3", err)
	}
	out, _, err = runCmd(t, "status", "--data", data)
	if err != nil || !strings.Contains(out, "texts       3 (3 embedded)") {
		t.Fatalf("status: %q %v", out, err)
	}
}
