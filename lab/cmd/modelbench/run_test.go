package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/modelbench"
)

// TestMain lets the test binary act as the measurement child the parent starts (os.Executable
// is the test binary here).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childCmd {
		if err := Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	outFile := filepath.Join(t.TempDir(), "bench.json")
	cases := []struct {
		name    string
		args    []string
		wantErr bool
		usage   bool
		check   func(t *testing.T, out string)
	}{
		{"default bundle, quick", []string{"--quick", "--out", outFile}, false, false, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var rep struct {
				Models []modelbench.Model `json:"models"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
				t.Fatalf("last line is not one JSON object: %v\n%s", err, out)
			}
			if len(rep.Models) != 1 || rep.Models[0].Model != "tiny-scenes" {
				t.Fatalf("models %+v", rep.Models)
			}
			m := rep.Models[0]
			if m.Memory == nil || m.Memory.PeakMB < m.Memory.OpenMB || m.Memory.OpenMB <= 0 {
				t.Errorf("memory %+v", m.Memory)
			}
			th := m.Throughput
			if th == nil || th.VisionImagesPerS["batch2"] <= 0 || th.TextQueriesPerS <= 0 || th.ITMPairsPerS <= 0 ||
				th.Query["k8"].Reranked != 8 {
				t.Errorf("throughput %+v", th)
			}
			for _, w := range []string{"THROUGHPUT", "CPU TIME", "MEMORY", "IMG/S b1", "QUERY K=8 ms", "tiny-scenes"} {
				if !strings.Contains(out, w) {
					t.Errorf("table lacks %q", w)
				}
			}
			if data, err := os.ReadFile(outFile); err != nil || !bytes.Contains(data, []byte(`"models"`)) {
				t.Errorf("--out file: %v", err)
			}
		}},
		{"nothing to measure", []string{"--no-default"}, true, true, nil},
		{"bad phase", []string{"--phases", "memory,speed"}, true, true, nil},
		{"bad list", []string{"--ks", "16,x"}, true, true, nil},
		{"not a folder", []string{filepath.Join(t.TempDir(), "missing")}, true, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), tc.args, &out, &errOut)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Run = %v, want error %v\n%s", err, tc.wantErr, errOut.String())
			}
			var ue *cli.UsageError
			if tc.usage != errors.As(err, &ue) {
				t.Errorf("usage error %v, want %v: %v", !tc.usage, tc.usage, err)
			}
			if tc.check != nil {
				tc.check(t, out.String())
			}
		})
	}
}
