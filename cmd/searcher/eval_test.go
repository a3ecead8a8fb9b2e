package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/lab/scene"
)

// evalSlack is how far TestEval's recalls may fall below what the committed tiny-scenes bundle
// measures on its 30 scenes of seed 9001 (every recall 100, 2026-12-07): one missed text-to-image
// query in 30 (3.3 points), for float differences between CPUs that could swap a near tie.
const evalSlack = 3.4

// TestEval runs the eval command end to end on generated scenes and holds the committed default
// model to its recalls there.
func TestEval(t *testing.T) {
	dir := t.TempDir()
	if err := scene.Generate(t.Context(), scene.Options{N: 30, Seed: 9001, Out: dir, Size: 96, Negatives: -1}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args := []string{"eval", "--dataset", dir + "/captions.json", "--images", dir + "/images", "--k", "16", "--json"}
	if err := Run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("%v (stderr %s)", err, errOut.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res["images"] != 30.0 || res["texts"] != 150.0 || res["k"] != 16.0 {
		t.Fatalf("header %v", res)
	}
	for _, key := range []string{"itc", "rerank"} {
		r, ok := res[key].(map[string]any)
		if !ok {
			t.Fatalf("no %q in %v", key, res)
		}
		prev := map[string]float64{}
		for _, f := range []string{"tr1", "tr5", "tr10", "ir1", "ir5", "ir10", "r_mean"} {
			v, ok := r[f].(float64)
			if !ok || v < 100-evalSlack || v > 100 {
				t.Fatalf("%s.%s = %v, want the committed bundle's 100 (within %g points)", key, f, r[f], evalSlack)
			}
			prev[f] = v
		}
		if prev["tr1"] > prev["tr5"] || prev["tr5"] > prev["tr10"] || prev["ir1"] > prev["ir5"] || prev["ir5"] > prev["ir10"] {
			t.Fatalf("%s recalls not monotone: %v", key, prev)
		}
	}
	if errOut.Len() != 0 {
		t.Fatalf("--json wrote to stderr: %q", errOut.String())
	}
	for _, bad := range [][]string{
		{"eval", "--images", dir + "/images"},
		{"eval", "--dataset", dir + "/missing.json", "--images", dir + "/images"},
		{"eval", "--dataset", dir + "/captions.json", "--images", dir + "/nope"},
		{"eval", "--dataset", dir + "/captions.json", "--images", dir + "/images", "--k", "0"},
		{"eval", "--dataset", dir + "/captions.json", "--images", dir + "/images", "--split", "train"},
	} {
		if err := Run(t.Context(), bad, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestEvalQueries runs eval --queries end to end: queries drawn over a generated gallery with
// their truth, every kind in the report with its figures in [0, 1], the table's rows in text
// output, and files that cannot be evaluated refused.
func TestEvalQueries(t *testing.T) {
	dir := t.TempDir()
	if err := scene.Generate(t.Context(), scene.Options{N: 40, Seed: 9002, Out: dir, Size: 96, Negatives: -1}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "captions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ds scene.Dataset
	if err := json.Unmarshal(raw, &ds); err != nil {
		t.Fatal(err)
	}
	set := scene.Queries(ds, 33, 5, false)
	qfile := filepath.Join(dir, "queries.json")
	b, _ := json.Marshal(set)
	if err := os.WriteFile(qfile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"eval", "--dataset", dir + "/captions.json", "--images", dir + "/images", "--queries", qfile}
	var out, errOut bytes.Buffer
	if err := Run(t.Context(), append(base, "--json"), &out, &errOut); err != nil {
		t.Fatalf("%v (stderr %s)", err, errOut.String())
	}
	var res evalResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Queries == nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res.Queries.All.Queries != len(set.Queries) || len(res.Queries.Kinds) != len(scene.QueryKinds) {
		t.Fatalf("%d queries in %d kinds, want %d in %d", res.Queries.All.Queries, len(res.Queries.Kinds),
			len(set.Queries), len(scene.QueryKinds))
	}
	for kind, f := range res.Queries.Kinds {
		for _, v := range []float64{f.Recall, f.Precision, f.F1, f.ITCRPrecision} {
			if v < 0 || v > 1 {
				t.Errorf("%s: %+v outside [0, 1]", kind, f)
			}
		}
	}
	out.Reset()
	if err := Run(t.Context(), append(base, "--min-score", "0"), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, row := range append(scene.QueryKinds, "all") {
		if !strings.Contains(out.String(), "\n"+row+" ") {
			t.Errorf("no row %q in\n%s", row, out.String())
		}
	}
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"queries": [{"kind": "shape", "text": "a circle", "true_of": [99999]}]}`), 0o644)
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte(`{"queries": []}`), 0o644)
	for _, f := range []string{other, empty, filepath.Join(dir, "missing.json")} {
		if err := Run(t.Context(), append(base[:5:5], "--queries", f), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("--queries %s: no error", f)
		}
	}
}
