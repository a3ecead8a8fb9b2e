package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCeiling(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"generate", "--n", "60", "--seed", "4", "--size", "32", "--out", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	caps := filepath.Join(dir, "captions.json")
	t.Run("text", func(t *testing.T) {
		var stdout bytes.Buffer
		if err := Run(context.Background(), []string{"ceiling", caps}, &stdout, &stdout); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "60 images, 300 captions") || !strings.Contains(stdout.String(), "R@1 ceiling") {
			t.Errorf("output:\n%s", stdout.String())
		}
	})
	t.Run("json", func(t *testing.T) {
		var stdout bytes.Buffer
		if err := Run(context.Background(), []string{"ceiling", "--json", caps}, &stdout, &stdout); err != nil {
			t.Fatal(err)
		}
		var c struct {
			Captions int     `json:"captions"`
			R1       float64 `json:"r1"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &c); err != nil || c.Captions != 300 || c.R1 <= 0 || c.R1 > 100 {
			t.Errorf("json %q: %+v %v", stdout.String(), c, err)
		}
	})
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"ceiling"}, "want one captions.json"},
		{"missing file", []string{"ceiling", filepath.Join(dir, "none.json")}, "no such file"},
		{"bad json", []string{"ceiling", bad}, "bad.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := Run(context.Background(), tc.args, &stdout, &stdout)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
