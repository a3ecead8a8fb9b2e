package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/searcher"
)

// optFloat is a float flag that remembers whether it was set.
type optFloat struct {
	v   float64
	set bool
}

func (f *optFloat) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatFloat(f.v, 'g', -1, 64)
}

func (f *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	f.v, f.set = v, true
	return nil
}

func (f *optFloat) ptr() *float64 {
	if !f.set {
		return nil
	}
	return &f.v
}

// searchFlags are the flags of the query commands.
type searchFlags struct {
	data          string
	store         cli.StoreFlags
	k, limit, off int
	minScore      optFloat
	rank, tokens  string
	cacheMB       int64
	noRerank      bool
	asJSON        bool
	mf            cli.ModelFlags
}

// rankNames lists --rank's values, the rank formulas of a model with an ITM head.
var rankNames = "one of " + strings.Join(encoder.ITMRanks, ", ")

// register adds the flags; rerank adds those that only reranking commands have.
func (sf *searchFlags) register(fset *flag.FlagSet, rerank bool) {
	fset.StringVar(&sf.data, "data", "", cli.DataFlagHelp("data dir holding the index"))
	sf.store.Register(fset)
	fset.IntVar(&sf.k, "k", 0, fmt.Sprintf("candidates from the embeddings, 1..%d (default %d)", searcher.MaxK, searcher.DefaultK))
	fset.IntVar(&sf.limit, "limit", 0, fmt.Sprintf("results per page, 1..%d (default %d)", searcher.MaxLimit, searcher.DefaultLimit))
	fset.IntVar(&sf.off, "offset", 0, "results to skip (pagination)")
	fset.BoolVar(&sf.asJSON, "json", false, "print the result as JSON")
	fset.StringVar(&sf.tokens, "tokens", string(searcher.DefaultTokens),
		"where candidate image tokens come from: cache (fp16 files in DATA/tokens) or recompute (decode the originals)")
	fset.Int64Var(&sf.cacheMB, "cache-mb", 1024, "token cache budget in MiB (least recently used files are deleted past it)")
	if rerank {
		fset.Var(&sf.minScore, "min-score", "minimum ITM match probability of a result (an image for query, a text for caption); "+
			"0 turns the threshold off and keeps every candidate (default: the bundle's match_threshold, 0.5)")
		fset.StringVar(&sf.rank, "rank", "", "order of reranked results: "+rankNames+" (default: the bundle's scores.rank)")
		fset.BoolVar(&sf.noRerank, "no-rerank", false, "rank by the embeddings (ITC) alone")
	}
	sf.mf.Register(fset, "the model, which must be the indexing model")
}

func (sf *searchFlags) params() searcher.Params {
	return searcher.Params{K: sf.k, Limit: sf.limit, Offset: sf.off, MinScore: sf.minScore.ptr(),
		Rank: searcher.Rank(sf.rank), NoRerank: sf.noRerank}
}

// validate checks the ranges before anything is loaded (usage errors, exit status 2).
func (sf *searchFlags) validate() error {
	switch {
	case sf.k != 0 && (sf.k < 1 || sf.k > searcher.MaxK):
		return cli.Usagef("--k %d: want 1..%d", sf.k, searcher.MaxK)
	case sf.limit != 0 && (sf.limit < 1 || sf.limit > searcher.MaxLimit):
		return cli.Usagef("--limit %d: want 1..%d", sf.limit, searcher.MaxLimit)
	case sf.off < 0:
		return cli.Usagef("--offset %d: want >= 0", sf.off)
	case sf.cacheMB < 1:
		return cli.Usagef("--cache-mb %d: want >= 1", sf.cacheMB)
	}
	if sf.rank != "" {
		if _, err := searcher.ParseRank(sf.rank); err != nil {
			return cli.Usagef("--rank %q: want %s", sf.rank, rankNames)
		}
	}
	if _, err := searcher.ParseTokenStrategy(sf.tokens); err != nil {
		return cli.Usagef("--tokens %q: want %s or %s", sf.tokens, searcher.TokensCache, searcher.TokensRecompute)
	}
	return nil
}

// session is an open library, model and searcher.
type session struct {
	lib     *library.Library
	m       *encoder.Model
	s       *searcher.Searcher
	label   string
	cleanup func()
}

func (ss *session) Close() {
	ss.lib.Close()
	ss.m.Close()
	if ss.cleanup != nil {
		ss.cleanup()
	}
}

// openScratch opens the model over an empty temporary library, for commands that need no
// index (explain of a file), removed on Close.
func openScratch(sf *searchFlags, stderr io.Writer) (*session, error) {
	dir, err := os.MkdirTemp("", "glimpse-scratch-")
	if err != nil {
		return nil, err
	}
	lib, err := library.Open(dir, library.Options{NoSync: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ss, err := newSession(lib, sf, stderr)
	if err != nil {
		lib.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	ss.cleanup = func() { os.RemoveAll(dir) }
	return ss, nil
}

// openSearch opens the data dir's library (which must exist) read-only, and the model.
func openSearch(sf *searchFlags, stderr io.Writer) (*session, error) {
	dir := cli.DataDir(sf.data)
	if _, err := os.Stat(filepath.Join(dir, library.DBFile)); err != nil {
		return nil, fmt.Errorf("no index in data dir %s (%v): build one with `indexer add --data %s PATH`, "+
			"or point --data or %s at one", dir, err, dir, cli.EnvData)
	}
	lib, err := sf.store.OpenLibrary(dir, library.Options{ReadOnly: true}, cli.WarnLogger(stderr))
	if err != nil {
		return nil, err
	}
	ss, err := newSession(lib, sf, stderr)
	if err != nil {
		lib.Close()
		return nil, err
	}
	return ss, nil
}

// newSession opens the model and a searcher over an open library.
func newSession(lib *library.Library, sf *searchFlags, stderr io.Writer) (*session, error) {
	log := cli.WarnLogger(stderr)
	m, b, err := sf.mf.Open(encoder.ImageOptions{}, log)
	if err != nil {
		return nil, err
	}
	s, err := searcher.New(lib.DB(), m, b.Info, searcher.Options{
		Tokens:      searcher.TokenStrategy(sf.tokens),
		CacheBudget: sf.cacheMB << 20,
		Thumb:       lib.ThumbPath,
		Logger:      log,
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%w (model %s)", err, b.Label)
	}
	return &session{lib: lib, m: m, s: s, label: b.Label}, nil
}

// readQueryImage decodes an image file with the model's caps.
func readQueryImage(s *searcher.Searcher, path string) (imgInput searcher.ImageInput, err error) {
	f, err := os.Open(path)
	if err != nil {
		return imgInput, err
	}
	defer f.Close()
	img, err := s.Decode(f)
	if err != nil {
		return imgInput, wrap(path, err)
	}
	return searcher.ImageInput{Image: img}, nil
}

// imageFlags are --image FILE | --id ID.
type imageFlags struct {
	path string
	id   uint64
}

func (f *imageFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&f.path, "image", "", "query image file (PNG, JPEG, GIF, WebP, BMP, TIFF)")
	fset.Uint64Var(&f.id, "id", 0, "query by an indexed image id instead of a file")
}

func (f *imageFlags) validate(cmd string) error {
	if (f.path == "") == (f.id == 0) {
		return cli.Usagef("%s: give exactly one of --image FILE and --id ID", cmd)
	}
	return nil
}

func (f *imageFlags) input(s *searcher.Searcher) (searcher.ImageInput, error) {
	if f.path != "" {
		return readQueryImage(s, f.path)
	}
	return searcher.ImageInput{ImageID: f.id}, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printPage prints the summary and timings lines of a result.
func printPage(w io.Writer, pg searcher.Page, shown int) {
	if shown == 0 {
		fmt.Fprintf(w, "no results: %s\n", pg.Reason)
	} else {
		fmt.Fprintf(w, "%d-%d of %d results", pg.Offset+1, pg.Offset+shown, pg.Total)
		fmt.Fprintf(w, "; %d candidates, %d reranked", pg.Candidates, pg.Reranked)
		if pg.MinScore != nil {
			fmt.Fprintf(w, ", min score %g, rank %s", *pg.MinScore, pg.Rank)
		}
		fmt.Fprintln(w)
	}
	if pg.Note != "" {
		fmt.Fprintln(w, "note:", pg.Note)
	}
	for _, warn := range pg.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	t := pg.Timings
	fmt.Fprintf(w, "timings ms: tokenize %.2f, text_encode %.2f, image_encode %.2f, ann %.2f, fetch %.2f, "+
		"token_encode %.2f, rerank %.2f, total %.2f\n", t.Tokenize, t.TextEncode, t.ImageEncode, t.ANN, t.Fetch,
		t.TokenEncode, t.Rerank, t.Total)
}

func printImages(w io.Writer, res *searcher.ImageResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, h := range res.Hits {
		p := "-"
		if h.PMatch != nil {
			p = fmt.Sprintf("%.4f", *h.PMatch)
		}
		date := ""
		if h.Captured != nil {
			date = h.Captured.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%d\tid %d\tp_match %s\titc %.4f\t%s\t%s\n", res.Offset+i+1, h.ImageID, p, h.ITC, date, h.Path)
	}
	tw.Flush()
	printPage(w, res.Page, len(res.Hits))
}

func printTexts(w io.Writer, res *searcher.TextResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, h := range res.Hits {
		p := "-"
		if h.PMatch != nil {
			p = fmt.Sprintf("%.4f", *h.PMatch)
		}
		fmt.Fprintf(tw, "%d\tid %d\tp_match %s\titc %.4f\t%s\n", res.Offset+i+1, h.TextID, p, h.ITC,
			strings.ReplaceAll(h.Text, "\n", " "))
	}
	tw.Flush()
	printPage(w, res.Page, len(res.Hits))
}

// parseDate accepts 2006-01-02 or RFC 3339; endOfDay moves a bare date to the next midnight
// (an inclusive --to).
func parseDate(flagName, s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, cli.Usagef("--%s %q: want a date YYYY-MM-DD or an RFC 3339 time", flagName, s)
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
