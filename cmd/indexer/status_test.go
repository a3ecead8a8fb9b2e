package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatusJSON(t *testing.T) {
	src := photos(t)
	data := t.TempDir()
	// a duplicate path counts as an image
	b, _ := os.ReadFile(filepath.Join(src, "rocket.jpg"))
	os.WriteFile(filepath.Join(src, "rocket-copy.jpg"), b, 0o644)
	if _, _, err := runCmd(t, "add", "--data", data, src); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, "status", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	for _, k := range []string{"images", "texts", "model", "dim", "embeddings", "db_bytes", "vector_graph_bytes",
		"record_bytes", "db_ratio", "thumbs", "last_run"} {
		if _, ok := s[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
	if s["images"] != 8.0 || s["embeddings"] != 7.0 || s["texts"] != 0.0 || s["model"] != "tiny-scenes" ||
		s["dim"].(float64) < 1 || s["thumbs"] != 7.0 {
		t.Errorf("status %s", out)
	}
	if _, _, err := runCmd(t, "status", "--data", data); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, _, err := runCmd(t, "status", "--data", missing); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("status of a missing data dir: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("status created %s", missing)
	}
}
