package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/scene"
)

func TestRunBadArgs(t *testing.T) {
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "generate"},
		{"unknown subcommand", []string{"render"}, "generate"},
		{"n zero", []string{"generate", "--n", "0", "--out", out}, "--n"},
		{"n negative", []string{"generate", "--n", "-1", "--out", out}, "--n"},
		{"n missing", []string{"generate", "--out", out}, "--n"},
		{"size too small", []string{"generate", "--n", "1", "--size", "5", "--out", out}, "--size"},
		{"format gif", []string{"generate", "--n", "1", "--format", "gif", "--out", out}, "--format"},
		{"missing out", []string{"generate", "--n", "1"}, "--out"},
		{"unknown flag", []string{"generate", "--n", "1", "--out", out, "--colour", "red"}, "colour"},
		{"bad number", []string{"generate", "--n", "many", "--out", out}, "-n"},
		{"negatives", []string{"generate", "--n", "1", "--out", out, "--negatives", "-2"}, "--negatives"},
		{"captions style", []string{"generate", "--n", "1", "--out", out, "--captions", "long"}, "--captions must be short, full or both"},
		{"captions empty", []string{"generate", "--n", "1", "--out", out, "--captions", ""}, "--captions"},
		{"extra args", []string{"generate", "--n", "1", "--out", out, "stray"}, "stray"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tc.args, &stdout, &stderr)
			var ue *cli.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Run(%q) = %v, want a usage error", tc.args, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestRunGenerate(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		files []string
	}{
		{"png", []string{"--n", "2", "--seed", "3", "--size", "32"}, []string{"scene_000000.png", "scene_000001.png"}},
		{"jpeg twins start", []string{"--n", "1", "--size", "40", "--format", "jpeg", "--twins", "--start", "5", "--split", "val", "--negatives", "0"},
			[]string{"scene_000005a.jpg", "scene_000005b.jpg"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new", "dir")
			var stdout, stderr bytes.Buffer
			args := append([]string{"generate", "--out", dir}, tc.args...)
			if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("Run: %v (stderr %s)", err, stderr.String())
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(dir, "images", f)); err != nil {
					t.Error(err)
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "captions.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"dataset":"scenes"`) {
				t.Errorf("captions.json header missing")
			}
			if !strings.Contains(stdout.String(), "wrote") {
				t.Errorf("stdout = %q", stdout.String())
			}
		})
	}
}

// TestQueries draws queries over a generated gallery: every one is true of at least one image,
// its truth is what scene.Query.TrueOf says of each image's scene graph, and bad flags are
// usage errors.
func TestQueries(t *testing.T) {
	dir := t.TempDir()
	if err := Run(context.Background(), []string{"generate", "--n", "60", "--seed", "5", "--size", "32", "--out", dir},
		&bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	caps := filepath.Join(dir, "captions.json")
	out := filepath.Join(dir, "queries.json")
	var stdout bytes.Buffer
	if err := Run(context.Background(), []string{"queries", "--captions", caps, "--n", "40", "--seed", "77", "--out", out},
		&stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var ds scene.Dataset
	var set scene.QuerySet
	for path, v := range map[string]any{caps: &ds, out: &set} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if len(set.Queries) != 40 || set.Images != 60 || set.Gallery != "captions.json" {
		t.Fatalf("%d queries over %d images of %q", len(set.Queries), set.Images, set.Gallery)
	}
	for _, q := range set.Queries {
		var want []int
		for _, im := range ds.Images {
			if q.Query.TrueOf(im.Scene) {
				want = append(want, im.ImgID)
			}
		}
		if len(q.TrueOf) == 0 || !slices.Equal(q.TrueOf, want) {
			t.Errorf("%q: true_of %v, want %v (non-empty)", q.Text, q.TrueOf, want)
		}
	}
	for _, bad := range [][]string{{"queries"}, {"queries", "--captions", caps}, {"queries", "--captions", caps, "--n", "0"}} {
		var ue *cli.UsageError
		if err := Run(context.Background(), bad, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}
