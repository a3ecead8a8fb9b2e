package searcher

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// LabeledQuery is a search-box query with the images it is true of (store ids).
type LabeledQuery struct {
	Kind  string
	Text  string
	Truth []uint64
}

// QueryEvalOptions configures [Searcher.EvaluateQueries].
type QueryEvalOptions struct {
	// MinScore is the threshold of a confident answer (default nil: the bundle's
	// match_threshold, as users get).
	MinScore *float64
	// Rank orders reranked candidates (default the searcher's).
	Rank Rank
	// Progress, when set, is called after every query with the queries done and the total.
	Progress func(done, total int)
}

// QueryFigures are macro averages over a set of queries. Recall is the share of a query's true
// images in its confident answer (the results at or over the threshold); Precision the share of
// the confident answer that is true, averaged over the queries whose answer is not empty
// (Empty counts the others); F1 is averaged per query, 0 for an empty answer. ITCRPrecision is
// the embeddings alone: the share of true images among the first |truth| by ITC similarity,
// which needs no threshold.
type QueryFigures struct {
	Queries       int     `json:"queries"`
	Recall        float64 `json:"recall"`
	Precision     float64 `json:"precision"`
	F1            float64 `json:"f1"`
	Empty         int     `json:"empty"`
	ITCRPrecision float64 `json:"itc_r_precision"`
}

// QueryReport is the outcome of [Searcher.EvaluateQueries]: the figures of every kind and of
// all queries (macro over queries, not over kinds), and the rerank depths used.
type QueryReport struct {
	Kinds   map[string]QueryFigures `json:"kinds"`
	All     QueryFigures            `json:"all"`
	MaxK    int                     `json:"max_k"`
	Elapsed time.Duration           `json:"elapsed_ns"`
}

// queryOutcome is one query's figures before averaging.
type queryOutcome struct {
	recall, precision, f1, itc float64
	empty                      bool
}

// EvaluateQueries measures how well the confident answers of [Searcher.Images] match each
// query's truth. The rerank depth starts at twice the truth's size (at least DefaultK) and
// doubles, up to MaxK, while every reranked candidate is still confident, so that the answer is
// never cut by K.
func (s *Searcher) EvaluateQueries(ctx context.Context, qs []LabeledQuery, o QueryEvalOptions) (*QueryReport, error) {
	if len(qs) == 0 {
		return nil, fmt.Errorf("%w: no queries", ErrInput)
	}
	start := time.Now()
	rep := &QueryReport{Kinds: map[string]QueryFigures{}}
	byKind := map[string][]queryOutcome{}
	var all []queryOutcome
	for i, q := range qs {
		out, k, err := s.evaluateQuery(ctx, q, o)
		if err != nil {
			return nil, withContext(err, "eval: query %d %q", i, q.Text)
		}
		rep.MaxK = max(rep.MaxK, k)
		byKind[q.Kind] = append(byKind[q.Kind], out)
		all = append(all, out)
		if o.Progress != nil {
			o.Progress(i+1, len(qs))
		}
	}
	for kind, outs := range byKind {
		rep.Kinds[kind] = average(outs)
	}
	rep.All = average(all)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func (s *Searcher) evaluateQuery(ctx context.Context, q LabeledQuery, o QueryEvalOptions) (queryOutcome, int, error) {
	var out queryOutcome
	truth := make(map[uint64]bool, len(q.Truth))
	for _, id := range q.Truth {
		truth[id] = true
	}
	k := min(MaxK, max(DefaultK, 2*len(truth)))
	var confident []ImageHit
	for {
		res, err := s.Images(ctx, ImageQuery{Text: q.Text, Params: Params{K: k, Depth: k, Limit: min(k, MaxLimit),
			MinScore: o.MinScore, Rank: o.Rank}})
		if err != nil {
			return out, k, err
		}
		confident = res.Hits
		if len(confident) < k || k == MaxK {
			break
		}
		k = min(MaxK, 2*k)
	}
	hit := 0
	for _, h := range confident {
		if truth[h.ImageID] {
			hit++
		}
	}
	if len(truth) > 0 {
		out.recall = float64(hit) / float64(len(truth))
	}
	out.empty = len(confident) == 0
	if !out.empty {
		out.precision = float64(hit) / float64(len(confident))
	}
	if out.recall+out.precision > 0 {
		out.f1 = 2 * out.recall * out.precision / (out.recall + out.precision)
	}
	if len(truth) > 0 {
		res, err := s.Images(ctx, ImageQuery{Text: q.Text, Params: Params{K: min(MaxK, len(truth)), Depth: min(MaxDepth, len(truth)),
			Limit: min(MaxLimit, len(truth)), MinScore: Float(0), NoRerank: true}})
		if err != nil {
			return out, k, err
		}
		n := 0
		for _, h := range res.Hits {
			if truth[h.ImageID] {
				n++
			}
		}
		out.itc = float64(n) / float64(len(truth))
	}
	return out, k, nil
}

// average macro-averages outcomes (precision over the non-empty answers).
func average(outs []queryOutcome) QueryFigures {
	f := QueryFigures{Queries: len(outs)}
	answered := 0
	for _, o := range outs {
		f.Recall += o.recall
		f.F1 += o.f1
		f.ITCRPrecision += o.itc
		if o.empty {
			f.Empty++
		} else {
			f.Precision += o.precision
			answered++
		}
	}
	if n := float64(len(outs)); n > 0 {
		f.Recall /= n
		f.F1 /= n
		f.ITCRPrecision /= n
	}
	if answered > 0 {
		f.Precision /= float64(answered)
	}
	return f
}

// QueryKindsOf lists the kinds of a report in a stable order: known first in the given order,
// then the rest sorted.
func QueryKindsOf(rep *QueryReport, known []string) []string {
	var out []string
	for _, k := range known {
		if _, ok := rep.Kinds[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range rep.Kinds {
		if !slices.Contains(known, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
