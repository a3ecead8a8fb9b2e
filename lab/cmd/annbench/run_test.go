package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
)

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), []string{"--n", "1500", "--queries", "30", "--efs", "10,80",
		"--no-peers", "--no-coder", "--dir", t.TempDir()}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the JSON report: %v", err)
	}
	if rep.N != 1500 || rep.Dim != dataDim {
		t.Fatalf("report header %+v", rep)
	}
	var impls []string
	for _, r := range rep.Results {
		impls = append(impls, r.Impl)
		if r.Impl == "glimpse-f32" && r.Points[1].Recall10 < 0.95 {
			t.Fatalf("glimpse-f32 recall at ef 80: %v", r.Points[1].Recall10)
		}
	}
	for _, want := range []string{"glimpse-f32", "glimpse-int8", "hnswlib", "faiss-hnsw", "coder-hnsw", "brute"} {
		if !slices.Contains(impls, want) {
			t.Errorf("impl %s missing from %v", want, impls)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--efs", "x"}, {"--n", "5"}, {"--bogus"}} {
		var ue *cli.UsageError
		if err := Run(context.Background(), args, io.Discard, io.Discard); !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a UsageError", args, err)
		}
	}
}
