package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/internal/instance"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/web"
)

// Bounds of a load run.
const (
	maxLoadN           = 100_000
	maxLoadConcurrency = 256
)

// usage is loadgen's usage line.
const usage = "loadgen [--url URL | --data DIR] [--model DIR] [--n 1000] [--concurrency 8] [--queries FILE] [--k K] [--limit N] [--min-score P] [--warmup N] [--hostile N] [--timeout D]"

// loadFlags are loadgen's flags.
type loadFlags struct {
	url, data, queries string
	model              cli.ModelFlags
	n, concurrency     int
	k, limit, warmup   int
	hostile            int
	minScore           string
	timeout            time.Duration
}

// loadReport is the last line of a load run.
type loadReport struct {
	Searches    int     `json:"searches"`
	Concurrency int     `json:"concurrency"`
	Images      int     `json:"images"`
	K           int     `json:"k"`
	Limit       int     `json:"limit"`
	Errors      int     `json:"errors"`
	WallS       float64 `json:"wall_s"`
	Throughput  float64 `json:"throughput_per_s"`
	P50         float64 `json:"p50_ms"`
	P90         float64 `json:"p90_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	ServerP50   float64 `json:"server_p50_ms"`
	ServerP99   float64 `json:"server_p99_ms"`
	RerankP50   float64 `json:"rerank_p50_ms"`
	NoMatch     int     `json:"no_confident_match"`
	URL         string  `json:"url"`
	// Hostile is what the --hostile clients met; PeakRSSMB the peak resident set of this
	// process, the server's included when it runs in-process (--data).
	Hostile   *hostileReport `json:"hostile,omitempty"`
	PeakRSSMB float64        `json:"peak_rss_mb,omitempty"`
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var lf loadFlags
	fset := cli.NewFlags("loadgen", usage, stderr)
	fset.StringVar(&lf.url, "url", "", "server to load, on this machine (loopback only), e.g. http://127.0.0.1:8080")
	fset.StringVar(&lf.data, "data", "", "instead of --url: start a server in-process over this data dir (rate limit off)")
	lf.model.Register(fset, "model bundle folder, for --data; must be the indexing model")
	fset.StringVar(&lf.queries, "queries", "", "query texts: a captions.json (Karpathy format) or one text per line (default: 1,000 generated scene captions)")
	fset.IntVar(&lf.n, "n", 1000, fmt.Sprintf("searches to send (1..%d)", maxLoadN))
	fset.IntVar(&lf.concurrency, "concurrency", 8, fmt.Sprintf("searches in flight (1..%d)", maxLoadConcurrency))
	fset.IntVar(&lf.k, "k", 0, "rerank depth (default: the server's, 128)")
	fset.IntVar(&lf.limit, "limit", 20, "results per search")
	fset.StringVar(&lf.minScore, "min-score", "", "minimum match probability (default: the server's)")
	fset.IntVar(&lf.warmup, "warmup", 32, "searches sent first and not counted (they fill the token cache)")
	fset.DurationVar(&lf.timeout, "timeout", 30*time.Minute, "stop the run after this long")
	fset.IntVar(&lf.hostile, "hostile", 0, "clients sending crafted uploads (JPEG scan bombs, 16-bit PNG bombs, one stalled upload) in a loop during the run")
	if err := cli.ParseNoArgs(fset, args); err != nil {
		return err
	}
	switch {
	case (lf.url == "") == (lf.data == ""):
		return cli.Usagef("loadgen: give exactly one of --url URL and --data DIR\nusage: %s", usage)
	case lf.n < 1 || lf.n > maxLoadN || lf.concurrency < 1 || lf.concurrency > maxLoadConcurrency:
		return cli.Usagef("loadgen: --n is 1..%d and --concurrency 1..%d", maxLoadN, maxLoadConcurrency)
	case lf.warmup < 0 || lf.k < 0 || lf.limit < 1 || lf.timeout <= 0 || lf.hostile < 0 || lf.hostile > 64:
		return cli.Usagef("loadgen: --warmup and --k must be >= 0, --limit >= 1, --timeout positive, --hostile 0..64")
	}
	if err := lf.model.Validate(); err != nil {
		return err
	}
	if lf.url != "" {
		u, err := url.Parse(lf.url)
		if err != nil || u.Scheme != "http" || !instance.IsLoopback(u.Hostname()) {
			return cli.Usagef("loadgen: --url %q: want http:// and a loopback host (127.0.0.1, ::1, localhost)", lf.url)
		}
	}
	texts, err := loadQueries(lf.queries)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, lf.timeout)
	defer cancel()
	base := strings.TrimSuffix(lf.url, "/")
	if lf.data != "" {
		// no rate limit, and a deadline that queueing on a busy machine cannot reach
		in, err := instance.Open(lf.data, &lf.model, &cli.StoreFlags{}, web.Options{NoRateLimit: true, RequestTimeout: 10 * time.Minute,
			Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			return err
		}
		defer in.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		sctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- in.Srv.Serve(sctx, ln) }()
		defer func() { stop(); <-served }()
		base = instance.ClientURL(ln.Addr())
	}
	return loadRun(ctx, base, texts, lf, stdout)
}

// loadQueries reads query texts, or generates scene captions.
func loadQueries(path string) ([]string, error) {
	if path == "" {
		var out []string
		for i := range 200 {
			recs, _ := scene.Records(9191, i, false, 0, "test", "png")
			for _, s := range recs[0].Sentences {
				out = append(out, s.Raw)
			}
		}
		return out, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--queries: %w", err)
	}
	var out []string
	if strings.HasPrefix(strings.TrimSpace(string(data)), "{") {
		var ds struct {
			Images []struct {
				Sentences []struct {
					Raw string `json:"raw"`
				} `json:"sentences"`
			} `json:"images"`
		}
		if err := json.Unmarshal(data, &ds); err != nil {
			return nil, fmt.Errorf("--queries %s: %w", path, err)
		}
		for _, im := range ds.Images {
			for _, s := range im.Sentences {
				out = append(out, s.Raw)
			}
		}
	} else {
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--queries %s: no texts", path)
	}
	return out, nil
}

// sample is one search of a load run.
type sample struct {
	ms, server, rerank float64
	k                  int
	noMatch            bool
	err                error
}

func loadRun(ctx context.Context, base string, texts []string, lf loadFlags, stdout io.Writer) error {
	hc := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: lf.concurrency}}
	r := rand.New(rand.NewPCG(7, 7))
	order := r.Perm(len(texts))
	target := func(i int) string {
		q := url.Values{"q": {texts[order[i%len(order)]]}, "limit": {strconv.Itoa(lf.limit)}}
		if lf.k > 0 {
			q.Set("k", strconv.Itoa(lf.k))
		}
		if lf.minScore != "" {
			q.Set("min_score", lf.minScore)
		}
		return base + "/api/v1/search?" + q.Encode()
	}
	images := metricValue(ctx, hc, base, "glimpse_images")
	fmt.Fprintf(stdout, "loadgen: %d searches at concurrency %d on %d images, k %s, limit %d -> %s\n",
		lf.n, lf.concurrency, images, kLabel(lf.k), lf.limit, base)
	if lf.warmup > 0 {
		runSearches(ctx, hc, lf.warmup, lf.concurrency, func(i int) string { return target(lf.n + i) })
	}
	var bombs []bomb
	if lf.hostile > 0 {
		bombs = makeBombs()
	}
	hctx, stopHostile := context.WithCancel(ctx)
	hdone := make(chan hostileReport, 1)
	go func() { hdone <- hostileLoad(hctx, base, lf.hostile, bombs) }()
	start := time.Now()
	samples := runSearches(ctx, hc, lf.n, lf.concurrency, target)
	wall := time.Since(start)
	stopHostile()
	hrep := <-hdone
	rep := loadReport{Searches: lf.n, Concurrency: lf.concurrency, Images: images, K: lf.k, Limit: lf.limit, URL: base,
		WallS: round(wall.Seconds(), 2), Throughput: round(float64(lf.n)/wall.Seconds(), 2)}
	if lf.hostile > 0 {
		rep.Hostile = &hrep
	}
	if lf.data != "" {
		rep.PeakRSSMB = peakRSSMB()
	}
	var lat, srv, rr []float64
	var errs []string
	for _, s := range samples {
		if s.err != nil {
			rep.Errors++
			if len(errs) < 5 {
				errs = append(errs, s.err.Error())
			}
			continue
		}
		lat, srv, rr = append(lat, s.ms), append(srv, s.server), append(rr, s.rerank)
		rep.K = s.k // the server's k
		if s.noMatch {
			rep.NoMatch++
		}
	}
	rep.P50, rep.P90, rep.P99, rep.Max = quantile(lat, .5), quantile(lat, .9), quantile(lat, .99), quantile(lat, 1)
	rep.ServerP50, rep.ServerP99, rep.RerankP50 = quantile(srv, .5), quantile(srv, .99), quantile(rr, .5)
	fmt.Fprintf(stdout, "wall %.1f s, throughput %.2f searches/s, errors %d, no confident match %d\n",
		rep.WallS, rep.Throughput, rep.Errors, rep.NoMatch)
	fmt.Fprintf(stdout, "latency ms        p50      p90      p99      max\n")
	fmt.Fprintf(stdout, "client        %8.1f %8.1f %8.1f %8.1f\n", rep.P50, rep.P90, rep.P99, rep.Max)
	fmt.Fprintf(stdout, "server        %8.1f %8s %8.1f\n", rep.ServerP50, "", rep.ServerP99)
	if rep.Hostile != nil {
		fmt.Fprintf(stdout, "hostile: %d clients sent %d crafted uploads, answers %v, slowest %.0f ms; the stalled upload: %s\n",
			hrep.Clients, hrep.Sent, hrep.Codes, hrep.MaxMS, hrep.Slow)
	}
	if rep.PeakRSSMB > 0 {
		fmt.Fprintf(stdout, "peak RSS of the process (server included) %.0f MiB\n", rep.PeakRSSMB)
	}
	for _, e := range errs {
		fmt.Fprintln(stdout, "error:", e)
	}
	line, _ := json.Marshal(rep)
	fmt.Fprintln(stdout, string(line))
	if rep.Errors > 0 {
		return fmt.Errorf("loadgen: %d of %d searches failed", rep.Errors, lf.n)
	}
	return ctx.Err()
}

func kLabel(k int) string {
	if k == 0 {
		return "default"
	}
	return strconv.Itoa(k)
}

// runSearches sends n searches from `concurrency` workers; results are indexed by search.
func runSearches(ctx context.Context, hc *http.Client, n, concurrency int, target func(int) string) []sample {
	out := make([]sample, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := range next {
				out[i] = search(ctx, hc, target(i))
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			for j := i; j < n; j++ {
				out[j].err = ctx.Err()
			}
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func search(ctx context.Context, hc *http.Client, u string) sample {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return sample{err: err}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return sample{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	d := time.Since(t0)
	if err != nil {
		return sample{err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return sample{err: fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)}
	}
	var res web.ImageResult
	if err := json.Unmarshal(body, &res); err != nil {
		return sample{err: fmt.Errorf("bad answer: %w", err)}
	}
	return sample{ms: float64(d.Microseconds()) / 1e3, server: res.Timings.Server, rerank: res.Timings.Rerank,
		k: res.K, noMatch: res.NoConfidentMatch}
}

// metricValue reads one unlabelled series from /metrics (0 when absent).
func metricValue(ctx context.Context, hc *http.Client, base, name string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f)
		}
	}
	return 0
}

// quantile is the q-quantile (nearest rank) of v; 0 for none.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := max(0, int(math.Ceil(q*float64(len(s))))-1)
	return round(s[i], 1)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
