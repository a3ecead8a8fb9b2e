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

const usageEval = "searcher eval --dataset captions.json --images DIR [--model DIR] [--k K] [--rank itm|itm+itc|itm_logit|itm_logit+itc] " +
	"[--split NAME] [--json] [--device cpu|cuda]"

// defaultEvalK is eval's rerank depth: enough for R@10 (ranks past 16 cannot enter the top 10
// of a top-16 rerank) and a few minutes for 1,000 images x 5 captions on 2 CPU cores, where
// K = 128 takes about 8 times longer (6,000 queries x K ITM pairs).
const defaultEvalK = 16

// maxDatasetBytes caps captions.json.
const maxDatasetBytes = 1 << 30

// dataset is the part of a Karpathy-format captions.json the evaluation reads.
type dataset struct {
	Images []struct {
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
	fset.IntVar(&sf.k, "k", defaultEvalK, fmt.Sprintf("rerank depth, 1..%d; ALBEF and BLIP use 128 on Flickr30k, "+
		"8x the ITM work of the default", searcher.MaxK))
	fset.StringVar(&rank, "rank", "", "order of reranked results: "+rankNames+" (default: the bundle's scores.rank)")
	fset.BoolVar(&sf.asJSON, "json", false, "print the result as one JSON object")
	sf.mf.Register(fset, "model bundle directory")
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
	set, files, err := readDataset(datasetPath, imagesDir, split)
	if err != nil {
		return err
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
		last := time.Now()
		rep, err := ss.s.Evaluate(ctx, set, searcher.EvalOptions{K: res.K, Rank: res.Rank, NoRerank: pass.noRerank,
			Progress: func(done, total int) {
				if time.Since(last) > 10*time.Second {
					last = time.Now()
					logf("  %d/%d queries", done, total)
				}
			}})
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
// files, absolute, in dataset order.
func readDataset(path, imagesDir, split string) (searcher.EvalSet, []string, error) {
	var set searcher.EvalSet
	f, err := os.Open(path)
	if err != nil {
		return set, nil, err
	}
	defer f.Close()
	var ds dataset
	if err := json.NewDecoder(io.LimitReader(f, maxDatasetBytes)).Decode(&ds); err != nil {
		return set, nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	dir, err := filepath.Abs(imagesDir)
	if err != nil {
		return set, nil, err
	}
	var files []string
	seen := map[string]bool{}
	for _, im := range ds.Images {
		if split != "" && im.Split != split {
			continue
		}
		name := filepath.Clean(im.Filename)
		if name == "" || filepath.IsAbs(name) || strings.HasPrefix(name, "..") || seen[name] {
			return set, nil, fmt.Errorf("dataset %s: image filename %q is empty, absolute, outside --images or repeated",
				path, im.Filename)
		}
		seen[name] = true
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return set, nil, fmt.Errorf("dataset %s: %w", path, err)
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
			return set, nil, fmt.Errorf("dataset %s: image %s has no captions", path, im.Filename)
		}
		files = append(files, p)
	}
	if len(files) == 0 {
		return set, nil, fmt.Errorf("dataset %s: no images (split %q)", path, split)
	}
	return set, files, nil
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
