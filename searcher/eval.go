package searcher

import (
	"context"
	"fmt"
	"time"
)

// EvalSet is an indexed retrieval test set in the Flickr30k layout: images, each with several
// captions, the captions also indexed as texts.
type EvalSet struct {
	Images   []uint64 // store id of each image
	Captions []string // caption texts (the text -> image queries)
	TextIDs  []uint64 // store text id of each caption
	ImageOf  []int    // index into Images of each caption's image
}

// Recalls are the Flickr30k protocol's figures, in percent: image->text TR@K (per image, the
// best rank among its captions), text->image IR@K (per caption, the rank of its image), and
// their mean.
type Recalls struct {
	TR1   float64 `json:"tr1"`
	TR5   float64 `json:"tr5"`
	TR10  float64 `json:"tr10"`
	IR1   float64 `json:"ir1"`
	IR5   float64 `json:"ir5"`
	IR10  float64 `json:"ir10"`
	RMean float64 `json:"r_mean"`
}

// EvalOptions configures [Searcher.Evaluate].
type EvalOptions struct {
	// K is the rerank depth (default the searcher's K). Candidates past the top K keep their
	// ITC order, as in the protocol.
	K int
	// Rank orders reranked candidates (default the searcher's).
	Rank Rank
	// NoRerank evaluates the embeddings (ITC) alone.
	NoRerank bool
	// Progress, when set, is called after every query with the queries done and the total.
	Progress func(done, total int)
}

// EvalReport is the outcome of one evaluation.
type EvalReport struct {
	Recalls
	// Timings are summed over the queries (milliseconds); Elapsed is the wall time.
	Timings Timings       `json:"timings_ms"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// evalRanks is the depth the protocol needs: ranks past 10 all count as misses.
const evalRanks = 10

// Evaluate runs the Flickr30k retrieval protocol over an indexed set through the same functions
// users call: [Searcher.Captions] by image id for image->text, [Searcher.Images] for
// text->image, with no threshold and the first 10 results.
func (s *Searcher) Evaluate(ctx context.Context, set EvalSet, o EvalOptions) (*EvalReport, error) {
	if len(set.Captions) != len(set.TextIDs) || len(set.Captions) != len(set.ImageOf) || len(set.Images) == 0 {
		return nil, fmt.Errorf("%w: eval set of %d images, %d captions, %d text ids, %d owners", ErrInput,
			len(set.Images), len(set.Captions), len(set.TextIDs), len(set.ImageOf))
	}
	k := o.K
	if k == 0 {
		k = s.o.K
	}
	p := Params{K: k, Depth: max(k, evalRanks), Limit: evalRanks, MinScore: Float(0), Rank: o.Rank, NoRerank: o.NoRerank}
	imageIndex := make(map[uint64]int, len(set.Images))
	for i, id := range set.Images {
		imageIndex[id] = i
	}
	textOwner := make(map[uint64]int, len(set.TextIDs))
	for j, id := range set.TextIDs {
		textOwner[id] = set.ImageOf[j]
	}
	total := len(set.Images) + len(set.Captions)
	done := 0
	step := func() {
		done++
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	rep := &EvalReport{}
	start := time.Now()
	var tr [3]int // hits at 1, 5, 10
	for i, id := range set.Images {
		res, err := s.Captions(ctx, CaptionQuery{ImageInput: ImageInput{ImageID: id}, Params: p})
		if err != nil {
			return nil, withContext(err, "eval: texts for image %d", id)
		}
		rank := len(res.Hits)
		for r, h := range res.Hits {
			if owner, ok := textOwner[h.TextID]; ok && owner == i {
				rank = r
				break
			}
		}
		count(&tr, rank, len(res.Hits))
		add(&rep.Timings, res.Timings)
		step()
	}
	var ir [3]int
	for j, text := range set.Captions {
		res, err := s.Images(ctx, ImageQuery{Text: text, Params: p})
		if err != nil {
			return nil, withContext(err, "eval: images for caption %d", j)
		}
		rank := len(res.Hits)
		for r, h := range res.Hits {
			if i, ok := imageIndex[h.ImageID]; ok && i == set.ImageOf[j] {
				rank = r
				break
			}
		}
		count(&ir, rank, len(res.Hits))
		add(&rep.Timings, res.Timings)
		step()
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(of) }
	ni, nc := len(set.Images), len(set.Captions)
	rep.Recalls = Recalls{TR1: pct(tr[0], ni), TR5: pct(tr[1], ni), TR10: pct(tr[2], ni),
		IR1: pct(ir[0], nc), IR5: pct(ir[1], nc), IR10: pct(ir[2], nc)}
	r := rep.Recalls
	rep.RMean = (r.TR1 + r.TR5 + r.TR10 + r.IR1 + r.IR5 + r.IR10) / 6
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// count adds a query whose answer is at rank (n: not in the first n) to the hits at 1, 5, 10.
func count(hits *[3]int, rank, n int) {
	if rank >= n {
		return
	}
	for i, k := range [3]int{1, 5, 10} {
		if rank < k {
			hits[i]++
		}
	}
}

func add(sum *Timings, t Timings) {
	sum.Tokenize += t.Tokenize
	sum.TextEncode += t.TextEncode
	sum.ImageEncode += t.ImageEncode
	sum.ANN += t.ANN
	sum.Fetch += t.Fetch
	sum.TokenEncode += t.TokenEncode
	sum.Rerank += t.Rerank
	sum.Total += t.Total
}
