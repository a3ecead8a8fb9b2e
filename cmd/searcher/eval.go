package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/searcher"
)

const usageEval = "searcher eval --dataset captions.json --images DIR [--queries FILE] [--model NAME|DIR] [--k K] [--rank itm|itm+itc|itm_logit|itm_logit+itc] " +
	"[--min-score P] [--split NAME] [--json] [--device cpu|cuda]"

// defaultEvalK is eval's rerank depth: enough for R@10 (ranks past 16 cannot enter the top 10
// of a top-16 rerank) and a few minutes for 1,000 images x 5 captions on 2 CPU cores, where
// K = 128 takes about 8 times longer (6,000 queries x K ITM pairs).
const defaultEvalK = 16

// maxDatasetBytes caps captions.json.
const maxDatasetBytes = 1 << 30

// dataset is the part of a Karpathy-format captions.json the evaluation reads.
type dataset struct {
	Images []struct {
		ImgID     int    `json:"imgid"`
		Filename  string `json:"filename"`
		Split     string `json:"split"`
		Sentences []struct {
			Raw string `json:"raw"`
		} `json:"sentences"`
	} `json:"images"`
}

// evalResult is eval's --json output; recalls are percentages.
type evalResult struct {
	Images int              `json:"images"`
	Texts  int              `json:"texts"`
	K      int              `json:"k"`
	Rank   searcher.Rank    `json:"rank"`
	ITC    searcher.Recalls `json:"itc"`
	Rerank searcher.Recalls `json:"rerank"`
	// Queries is the search-box evaluation (--queries) instead of the Flickr protocol.
	Queries *searcher.QueryReport `json:"queries,omitempty"`
	// Seconds spent indexing, and on each evaluation.
	Seconds struct {
		Index  float64 `json:"index"`
		ITC    float64 `json:"itc"`
		Rerank float64 `json:"rerank"`
	} `json:"seconds"`
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("eval", usageEval, stderr)
	var (
		sf                     searchFlags
		datasetPath, imagesDir string
		split, rank            string
	)
	fset.StringVar(&datasetPath, "dataset", "", "captions.json in the Karpathy format (required)")
	fset.StringVar(&imagesDir, "images", "", "folder holding the dataset's image files (required)")
	fset.StringVar(&split, "split", "", "evaluate only the images of this split (default: all)")
	queriesPath := fset.String("queries", "", "instead of the Flickr protocol, search-box queries with their truth "+
		"(`scenes queries`: {\"queries\": [{\"kind\", \"text\", \"true_of\": [imgid...]}]}): recall, precision and F1 of "+
		"the confident answers per kind, and the embeddings' R-precision")
	fset.Var(&sf.minScore, "min-score", "with --queries: the threshold of a confident answer (default: the bundle's match_threshold)")
	fset.IntVar(&sf.k, "k", defaultEvalK, fmt.Sprintf("rerank depth, 1..%d; ALBEF and BLIP use 128 on Flickr30k, "+
		"8x the ITM work of the default", searcher.MaxK))
	fset.StringVar(&rank, "rank", "", "order of reranked results: "+rankNames+" (default: the bundle's scores.rank)")
	fset.BoolVar(&sf.asJSON, "json", false, "print the result as one JSON object")
	sf.mf.Register(fset, "the model")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	switch {
	case fset.NArg() > 0:
		return cli.Usagef("eval takes no arguments, got %q", fset.Args())
	case datasetPath == "" || imagesDir == "":
		return cli.Usagef("eval: --dataset and --images are required\nusage: %s", usageEval)
	case sf.k < 1 || sf.k > searcher.MaxK:
		return cli.Usagef("--k %d: want 1..%d", sf.k, searcher.MaxK)
	}
	sf.tokens, sf.cacheMB, sf.rank = string(searcher.TokensCache), 1024, rank
	if err := sf.validate(); err != nil {
		return err
	}
	set, files, imgIDs, err := readDataset(datasetPath, imagesDir, split)
	if err != nil {
		return err
	}
	var queries []labeledQuery
	if *queriesPath != "" {
		if queries, err = readQueries(*queriesPath); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "glimpse-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	lib, err := library.Open(tmp, library.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer lib.Close()
	ss, err := newSession(lib, &sf, stderr)
	if err != nil {
		return err
	}
	defer ss.m.Close()
	logf := func(format string, a ...any) {
		if !sf.asJSON {
			fmt.Fprintf(stderr, "eval: "+format+"\n", a...)
		}
	}
	var res evalResult
	t0 := time.Now()
	logf("indexing %d images and %d captions into a temporary data dir", len(files), len(set.Captions))
	if err := buildEvalIndex(ctx, lib, ss, files, &set); err != nil {
		return err
	}
	res.Seconds.Index = time.Since(t0).Seconds()
	res.Images, res.Texts = len(set.Images), len(set.Captions)
	res.K = sf.k
	res.Rank = searcher.Rank(rank)
	if rank == "" {
		res.Rank = searcher.RankITM
		if r, err := searcher.ParseRank(ss.m.Manifest.Scores.Rank); err == nil {
			res.Rank = r
		}
	}
	if queries != nil {
		return evalQueries(ctx, ss, queries, set.Images, imgIDs, &sf, string(res.Rank), res, logf, stdout)
	}
	for _, pass := range []struct {
		name     string
		noRerank bool
		out      *searcher.Recalls
		secs     *float64
	}{{"itc", true, &res.ITC, &res.Seconds.ITC}, {"itc top-k + itm rerank", false, &res.Rerank, &res.Seconds.Rerank}} {
		if !pass.noRerank && !ss.m.HasITM() {
			logf("the model has no ITM head: no rerank pass")
			continue
		}
		logf("%s: %d queries", pass.name, len(set.Images)+len(set.Captions))
		rep, err := ss.s.Evaluate(ctx, set, searcher.EvalOptions{K: res.K, Rank: res.Rank, NoRerank: pass.noRerank,
			Progress: progressEvery(10*time.Second, logf)})
		if err != nil {
			return err
		}
		*pass.out, *pass.secs = rep.Recalls, rep.Elapsed.Seconds()
		logf("  %.1fs: %s", *pass.secs, formatRecalls(rep.Recalls))
	}
	if sf.asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%d images, %d texts, k %d, rank %s\n", res.Images, res.Texts, res.K, res.Rank)
	fmt.Fprintf(stdout, "itc:    %s\nrerank: %s\n", formatRecalls(res.ITC), formatRecalls(res.Rerank))
	return nil
}

func formatRecalls(r searcher.Recalls) string {
	return fmt.Sprintf("TR@1 %.1f TR@5 %.1f TR@10 %.1f | IR@1 %.1f IR@5 %.1f IR@10 %.1f | r_mean %.2f",
		r.TR1, r.TR5, r.TR10, r.IR1, r.IR5, r.IR10, r.RMean)
}

// readDataset reads captions.json and returns the captions (ids still unset) and the image
// files, absolute, in dataset order, with their imgids.
func readDataset(path, imagesDir, split string) (set searcher.EvalSet, files []string, imgIDs []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return set, nil, nil, err
	}
	defer f.Close()
	var ds dataset
	if err := json.NewDecoder(io.LimitReader(f, maxDatasetBytes)).Decode(&ds); err != nil {
		return set, nil, nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	dir, err := filepath.Abs(imagesDir)
	if err != nil {
		return set, nil, nil, err
	}
	seen := map[string]bool{}
	for _, im := range ds.Images {
		if split != "" && im.Split != split {
			continue
		}
		name := filepath.Clean(im.Filename)
		if name == "" || filepath.IsAbs(name) || strings.HasPrefix(name, "..") || seen[name] {
			return set, nil, nil, fmt.Errorf("dataset %s: image filename %q is empty, absolute, outside --images or repeated",
				path, im.Filename)
		}
		seen[name] = true
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return set, nil, nil, fmt.Errorf("dataset %s: %w", path, err)
		}
		n := 0
		for _, s := range im.Sentences {
			if strings.TrimSpace(s.Raw) == "" {
				continue
			}
			set.Captions = append(set.Captions, s.Raw)
			set.ImageOf = append(set.ImageOf, len(files))
			n++
		}
		if n == 0 {
			return set, nil, nil, fmt.Errorf("dataset %s: image %s has no captions", path, im.Filename)
		}
		files = append(files, p)
		imgIDs = append(imgIDs, im.ImgID)
	}
	if len(files) == 0 {
		return set, nil, nil, fmt.Errorf("dataset %s: no images (split %q)", path, split)
	}
	return set, files, imgIDs, nil
}

// buildEvalIndex indexes the image files and the captions through the indexer and fills in
// the set's store ids.
func buildEvalIndex(ctx context.Context, lib *library.Library, ss *session, files []string, set *searcher.EvalSet) error {
	ix, err := indexer.New(lib, ss.m, ss.s.Info(), indexer.Options{ThumbSize: -1})
	if err != nil {
		return err
	}
	sum, err := ix.Add(ctx, files)
	if err != nil {
		return fmt.Errorf("index images: %w", err)
	}
	if sum.Skipped+sum.Failed > 0 {
		return fmt.Errorf("index images: %d skipped, %d failed of %d", sum.Skipped, sum.Failed, len(files))
	}
	db := lib.DB()
	set.Images = make([]uint64, len(files))
	for i, p := range files {
		r, err := db.ImageByPath(p)
		if err != nil {
			return fmt.Errorf("index images: %w", err)
		}
		set.Images[i] = r.ID
	}
	lines := make([]indexer.TextLine, len(set.Captions))
	for j, c := range set.Captions {
		lines[j] = indexer.TextLine{ID: "caption:" + strconv.Itoa(j), Text: c, Line: j + 1}
	}
	if _, err := ix.AddTexts(ctx, lines, "eval"); err != nil {
		return fmt.Errorf("index captions: %w", err)
	}
	set.TextIDs = make([]uint64, len(set.Captions))
	found := 0
	for after := uint64(0); ; {
		recs, next, err := db.Texts(after, 1000)
		if err != nil {
			return err
		}
		for _, r := range recs {
			j, err := strconv.Atoi(strings.TrimPrefix(r.Source, "caption:"))
			if err == nil && j >= 0 && j < len(set.TextIDs) {
				set.TextIDs[j] = r.ID
				found++
			}
		}
		if next == 0 {
			break
		}
		after = next
	}
	if found != len(set.Captions) {
		return errors.New("index captions: some captions were not stored")
	}
	return nil
}

// labeledQuery is one query of a --queries file: its kind, text and the imgids it is true of.
type labeledQuery struct {
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	TrueOf []int  `json:"true_of"`
}

// readQueries reads a --queries file.
func readQueries(path string) ([]labeledQuery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var doc struct {
		Queries []labeledQuery `json:"queries"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxDatasetBytes)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("queries %s: %w", path, err)
	}
	if len(doc.Queries) == 0 {
		return nil, fmt.Errorf("queries %s: no queries", path)
	}
	for i, q := range doc.Queries {
		if strings.TrimSpace(q.Text) == "" {
			return nil, fmt.Errorf("queries %s: query %d has no text", path, i)
		}
	}
	return doc.Queries, nil
}

// queryKinds is the order of the kinds in eval's table (the scene generator's; others follow).
var queryKinds = []string{"shape", "colour", "colour-shape", "full", "pair", "relation", "region", "background",
	"count", "only", "without"}

// evalQueries runs the search-box evaluation over the indexed images (store ids, in dataset
// order, with their imgids) and prints or writes res with it.
func evalQueries(ctx context.Context, ss *session, qs []labeledQuery, images []uint64, imgIDs []int, sf *searchFlags,
	rank string, res evalResult, logf func(string, ...any), stdout io.Writer) error {
	byImgID := make(map[int]uint64, len(imgIDs))
	for i, id := range imgIDs {
		byImgID[id] = images[i]
	}
	var lq []searcher.LabeledQuery
	for _, q := range qs {
		l := searcher.LabeledQuery{Kind: q.Kind, Text: q.Text}
		for _, id := range q.TrueOf {
			if sid, ok := byImgID[id]; ok {
				l.Truth = append(l.Truth, sid)
			}
		}
		if len(l.Truth) > 0 { // true of no indexed image (another --split): nothing to find
			lq = append(lq, l)
		}
	}
	if len(lq) == 0 {
		return errors.New("eval: no query is true of an indexed image (queries drawn over another gallery?)")
	}
	logf("%d queries (%d true of no indexed image left out)", len(lq), len(qs)-len(lq))
	rep, err := ss.s.EvaluateQueries(ctx, lq, searcher.QueryEvalOptions{MinScore: sf.minScore.ptr(), Rank: searcher.Rank(rank),
		Progress: progressEvery(10*time.Second, logf)})
	if err != nil {
		return err
	}
	res.Queries = rep
	if sf.asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%d images, %d queries, rank %s, rerank depth up to %d\n", res.Images, len(lq), res.Rank, rep.MaxK)
	fmt.Fprintf(stdout, "%-14s %7s %7s %9s %7s %6s %15s\n", "kind", "queries", "recall", "precision", "f1", "empty", "itc r-precision")
	row := func(name string, f searcher.QueryFigures) {
		fmt.Fprintf(stdout, "%-14s %7d %7.3f %9.3f %7.3f %6d %15.3f\n", name, f.Queries, f.Recall, f.Precision, f.F1, f.Empty,
			f.ITCRPrecision)
	}
	for _, k := range searcher.QueryKindsOf(rep, queryKinds) {
		row(k, rep.Kinds[k])
	}
	row("all", rep.All)
	return nil
}

// progressEvery is an evaluation's Progress callback that logs "done/total queries" at most
// once per interval.
func progressEvery(interval time.Duration, logf func(string, ...any)) func(done, total int) {
	last := time.Now()
	return func(done, total int) {
		if time.Since(last) > interval {
			last = time.Now()
			logf("  %d/%d queries", done, total)
		}
	}
}
