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
	s, out := statusMap(t, data)
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

// TestAddTokenPolicies: each --tokens policy leaves what it promises in the data dir, and
// status counts it (the token cache for eager; for copies, the model-resolution copies and the
// tokens, the cache having room; neither for lazy); an unknown policy is a usage error naming the
// three.
func TestAddTokenPolicies(t *testing.T) {
	src := photos(t)
	cases := []struct {
		policy         string
		tokens, copies float64
		line           string // the start of a line of the text status, spaces collapsed
	}{
		{"eager", 7, 0, "tokens 7 images cached"},
		{"copies", 7, 7, "copies 7 images"},
		{"lazy", 0, 0, "copies 0 images"},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			data := t.TempDir()
			if _, _, err := runCmd(t, "add", "--data", data, "--tokens", c.policy, src); err != nil {
				t.Fatal(err)
			}
			s, out := statusMap(t, data)
			if s["token_files"] != c.tokens || s["copy_files"] != c.copies || (c.copies > 0) != (s["copy_bytes"].(float64) > 0) {
				t.Errorf("status after --tokens %s: %s", c.policy, out)
			}
			if out, _, err := runCmd(t, "status", "--data", data); err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), c.line) {
				t.Errorf("status after --tokens %s lacks %q: %s %v", c.policy, c.line, out, err)
			}
		})
	}
	_, _, err := runCmd(t, "add", "--data", t.TempDir(), "--tokens", "sometimes", src)
	if err == nil || !strings.Contains(err.Error(), "eager, copies, lazy") {
		t.Errorf("--tokens sometimes: %v", err)
	}
}

// statusMap runs `indexer status --json` on data and returns the object, as a map, and the raw output.
func statusMap(t *testing.T, data string) (map[string]any, string) {
	t.Helper()
	out, _, err := runCmd(t, "status", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	return s, out
}
