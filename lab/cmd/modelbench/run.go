package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/lab/modelbench"
	"github.com/glimpse-search/glimpse/models"
)

// envORTLib names the ONNX Runtime library; read here only.
const envORTLib = "GLIMPSE_ORT_LIB"

// childCmd is the hidden first argument of the child processes (one bundle, one phase).
const childCmd = "__measure"

// defaultLabel stands for the embedded default bundle on a child's command line.
const defaultLabel = "embedded:" + models.DefaultName

// flags are the measurement flags, shared by the parent and its children.
type flags struct {
	threads       int
	minTime       time.Duration
	maxIters      int
	ks            string
	visionBatches string
	itmBatch      int
	images        int
	quick         bool
}

func (f *flags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.threads, "threads", 0, "ONNX Runtime intra-op threads per graph (0: one per physical core)")
	fs.DurationVar(&f.minTime, "min-time", modelbench.DefaultMinTime, "time each measurement at least this long (after a warm-up run)")
	fs.IntVar(&f.maxIters, "max-iters", modelbench.DefaultMaxIters, "at most this many timed runs per measurement")
	fs.StringVar(&f.ks, "ks", "16,128", "rerank depths K of the end-to-end query (the first one is the memory phase's)")
	fs.StringVar(&f.visionBatches, "vision-batches", "1,8", "vision batch sizes")
	fs.IntVar(&f.itmBatch, "itm-batch", modelbench.DefaultITMBatch, "pairs per ITM call of the pairs/s figure")
	fs.IntVar(&f.images, "images", modelbench.DefaultImages, "images in the synthetic index of the query")
	fs.BoolVar(&f.quick, "quick", false, "one timed run each, K 4,8, batches 1,2, 16 images (a smoke test)")
}

// args returns the flags as a child's command line.
func (f *flags) args() []string {
	a := []string{"--threads", strconv.Itoa(f.threads), "--min-time", f.minTime.String(), "--max-iters",
		strconv.Itoa(f.maxIters), "--ks", f.ks, "--vision-batches", f.visionBatches, "--itm-batch",
		strconv.Itoa(f.itmBatch), "--images", strconv.Itoa(f.images)}
	if f.quick {
		a = append(a, "--quick")
	}
	return a
}

func (f *flags) options(phase, dir string, log *slog.Logger) (modelbench.Options, error) {
	o := modelbench.Options{Phase: phase, Dir: dir, MinTime: f.minTime, MaxIters: f.maxIters, ITMBatch: f.itmBatch,
		Images: f.images, Logger: log,
		Encoder: encoder.Options{LibraryPath: os.Getenv(envORTLib), IntraOpThreads: f.threads}}
	var err error
	if o.Ks, err = ints("--ks", f.ks); err != nil {
		return o, err
	}
	if o.VisionBatches, err = ints("--vision-batches", f.visionBatches); err != nil {
		return o, err
	}
	if f.quick {
		o.MinTime, o.MaxIters, o.Ks, o.VisionBatches, o.Images = time.Nanosecond, 1, []int{4, 8}, []int{1, 2}, 16
	}
	return o, nil
}

func ints(name, s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return nil, cli.Usagef("%s: %q is not a list of positive integers", name, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == childCmd {
		return runChild(ctx, args[1:], stdout, stderr)
	}
	fset := flag.NewFlagSet("modelbench", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: modelbench [flags] [BUNDLE_DIR...]")
		fmt.Fprintln(stderr, "Measures the embedded default bundle, then each bundle folder, each phase in a fresh process.")
		fset.PrintDefaults()
	}
	var f flags
	f.register(fset)
	noDefault := fset.Bool("no-default", false, "leave out the embedded default bundle")
	phases := fset.String("phases", modelbench.PhaseMemory+","+modelbench.PhaseThroughput, "phases to run, in order")
	out := fset.String("out", "", "also write the JSON object to this file")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &cli.UsageError{Err: err}
	}
	if _, err := f.options(modelbench.PhaseMemory, "-", nil); err != nil {
		return err
	}
	var phaseList []string
	for _, p := range strings.Split(*phases, ",") {
		if p != modelbench.PhaseMemory && p != modelbench.PhaseThroughput {
			return cli.Usagef("--phases: %q is not %s or %s", p, modelbench.PhaseMemory, modelbench.PhaseThroughput)
		}
		phaseList = append(phaseList, p)
	}
	var labels []string
	if !*noDefault {
		labels = append(labels, defaultLabel)
	}
	for _, d := range fset.Args() {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return cli.Usagef("%s is not a bundle folder", d)
		}
		labels = append(labels, d)
	}
	if len(labels) == 0 {
		return cli.Usagef("nothing to measure: --no-default and no bundle folder")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary to run the measurements: %w", err)
	}
	t0 := time.Now()
	var results []modelbench.Result
	for _, label := range labels {
		for _, phase := range phaseList {
			fmt.Fprintf(stderr, "modelbench: %s: %s phase\n", label, phase)
			r, err := child(ctx, exe, append(append([]string{childCmd, "--phase", phase}, f.args()...), label), stderr)
			if err != nil {
				return fmt.Errorf("%s, %s phase: %w", label, phase, err)
			}
			results = append(results, *r)
			// each result as it comes, so that an interrupted run still reports what finished
			if line, err := json.Marshal(r); err == nil {
				fmt.Fprintf(stderr, "modelbench: result %s\n", line)
			}
		}
	}
	ms := modelbench.Merge(results)
	if err := modelbench.WriteTable(stdout, ms); err != nil {
		return err
	}
	o, _ := f.options(modelbench.PhaseThroughput, "-", nil)
	report := map[string]any{"machine": machine(), "models": ms, "wall_s": time.Since(t0).Round(time.Second).Seconds(),
		"options": map[string]any{"min_time_s": o.MinTime.Seconds(), "max_iters": o.MaxIters, "ks": o.Ks,
			"vision_batches": o.VisionBatches, "itm_batch": o.ITMBatch, "images": o.Images, "threads": f.threads}}
	data, err := json.Marshal(report)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, string(data))
	return nil
}

// child runs one measurement in a fresh process and decodes its JSON result.
func child(ctx context.Context, exe string, args []string, stderr io.Writer) (*modelbench.Result, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("measurement process: %w", err)
	}
	var r modelbench.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("measurement process printed no result: %w", err)
	}
	return &r, nil
}

// runChild measures one bundle in one phase and prints its result as JSON.
func runChild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet(childCmd, flag.ContinueOnError)
	fset.SetOutput(stderr)
	var f flags
	f.register(fset)
	phase := fset.String("phase", "", "memory or throughput")
	if err := fset.Parse(args); err != nil {
		return &cli.UsageError{Err: err}
	}
	if fset.NArg() != 1 {
		return cli.Usagef("%s wants one bundle, got %q", childCmd, fset.Args())
	}
	var fsys fs.FS
	if label := fset.Arg(0); label == defaultLabel {
		fsys = models.Default()
	} else {
		fsys = os.DirFS(label)
	}
	dir, err := os.MkdirTemp("", "modelbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o, err := f.options(*phase, dir, log.With("bundle", fset.Arg(0)))
	if err != nil {
		return err
	}
	r, err := modelbench.Measure(ctx, fsys, o)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(r)
}

// machine describes where the figures were measured.
func machine() map[string]any {
	m := map[string]any{"cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH,
		"onnxruntime": encoder.ORTVersion, "go": runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
