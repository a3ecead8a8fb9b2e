package modelbench

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/models"
)

func TestParseStatus(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    Usage
		wantErr bool
	}{
		{"linux", "Name:\tx\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t4\n",
			Usage{RSS: 1 << 20, Peak: 2 << 20}, false},
		{"no VmHWM", "VmRSS:\t1024 kB\n", Usage{}, true},
		{"not kB", "VmRSS:\t1024 MB\nVmHWM:\t1 kB\n", Usage{}, true},
		{"not a number", "VmRSS:\tlots kB\nVmHWM:\t1 kB\n", Usage{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseStatus = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	u, err := ReadUsage()
	if err != nil || u.RSS <= 0 || u.Peak < u.RSS {
		t.Fatalf("ReadUsage = %+v, %v", u, err)
	}
}

func TestOptions(t *testing.T) {
	cases := []struct {
		name    string
		o       Options
		wantErr bool
	}{
		{"defaults", Options{Phase: PhaseMemory, Dir: "x"}, false},
		{"no phase", Options{Dir: "x"}, true},
		{"no folder", Options{Phase: PhaseThroughput}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.o.withDefaults()
			if (err != nil) != tc.wantErr {
				t.Fatalf("withDefaults: %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (o.Images < 128 || o.Encoder.MaxBatch < 16 || o.MinTime != DefaultMinTime) {
				t.Errorf("defaults %+v", o)
			}
		})
	}
}

// Both phases on the embedded default model, in this process (so the memory figures include the
// test binary's), with one timed run each.
func TestMeasure(t *testing.T) {
	ctx := context.Background()
	var results []Result
	for _, phase := range []string{PhaseMemory, PhaseThroughput} {
		r, err := Measure(ctx, models.Default(), Options{Phase: phase, Dir: t.TempDir(), MinTime: time.Nanosecond,
			MaxIters: 1, Ks: []int{4, 8}, VisionBatches: []int{1, 2}, Images: 16})
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		results = append(results, *r)
	}
	mem, th := results[0].Memory, results[1].Throughput
	if mem == nil || mem.OpenMB <= 0 || mem.PeakMB < mem.OpenMB || mem.QueryK != 4 || len(mem.RunGrowthMB) != 4 {
		t.Errorf("memory %+v", mem)
	}
	if th == nil || th.VisionImagesPerS["batch1"] <= 0 || th.VisionImagesPerS["batch2"] <= 0 ||
		th.TextQueriesPerS <= 0 || th.ITMPairsPerS <= 0 || th.ITMBatch != DefaultITMBatch {
		t.Fatalf("throughput %+v", th)
	}
	for _, k := range []int{4, 8} {
		q := th.Query["k"+strconv.Itoa(k)]
		if q.K != k || q.Reranked != k || q.Runs != 1 || q.TotalMS <= 0 || q.Timings.Rerank <= 0 || q.Note != "" {
			t.Errorf("query k=%d: %+v", k, q)
		}
	}
	if g := results[0].GraphBytes; g["vision"] <= 0 || g["text"] <= 0 || g["itm"] <= 0 {
		t.Errorf("graph bytes %v", g)
	}

	ms := Merge(results)
	if len(ms) != 1 || ms[0].Memory == nil || ms[0].Throughput == nil {
		t.Fatalf("Merge = %+v", ms)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, ms); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"IMG/S b1", "IMG/S b2", "QUERY K=4 ms", "QUERY K=8 ms", "tiny-scenes", "(b16)", "rerank"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, buf.String())
		}
	}
	if _, err := json.Marshal(ms); err != nil {
		t.Errorf("models do not marshal: %v", err)
	}
}

func TestTotalParameters(t *testing.T) {
	cases := []struct {
		raw  string
		want int64
	}{{`{"vision": 3, "total": 10}`, 10}, {``, 0}, {`[1]`, 0}}
	for _, tc := range cases {
		if got := (Model{Parameters: json.RawMessage(tc.raw)}).TotalParameters(); got != tc.want {
			t.Errorf("TotalParameters(%s) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}
