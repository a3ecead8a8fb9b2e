package main

// mutants is the fixed list of deliberate bugs, each a plausible slip in a hot spot of the
// engine: the HNSW search, the tokenizers, the image preprocessing, the ITM softmax and the
// verification of a bundle against its goldens, the indexer's batches and change detection,
// API keys, the match threshold and the rank formulas. Old must stay unique in File; when the
// code changes, the mutant must follow it (an Old that no longer matches fails the run).
var mutants = []Mutant{
	{
		Name: "hnsw-no-fill", File: "store/hnsw/search.go",
		Old:      "if len(w.res) < ef || d < w.res[0].d {",
		New:      "if d < w.res[0].d {",
		Packages: []string{"./store/hnsw/"},
		Why:      "the candidate list is never filled to ef: the layer search turns greedy and recall drops",
	},
	{
		Name: "hnsw-filter-ignored", File: "store/hnsw/search.go",
		Old:      "if x.accept(n, filter, skipDead) {",
		New:      "if x.accept(n, nil, skipDead) {",
		Packages: []string{"./store/hnsw/"},
		Why:      "a filtered search (album, date) returns images outside the filter",
	},
	{
		Name: "hnsw-greedy-uphill", File: "store/hnsw/search.go",
		Old:      "if d := x.dist(q, qc, n); d < ep.d {",
		New:      "if d := x.dist(q, qc, n); d > ep.d {",
		Packages: []string{"./store/hnsw/"},
		Why:      "the upper layers descend towards the farthest node: bad entry points",
	},
	{
		Name: "itm-softmax-swapped", File: "encoder/itm.go",
		Old:      "return [2]float32{float32(ea / (ea + eb)), float32(eb / (ea + eb))}",
		New:      "return [2]float32{float32(eb / (ea + eb)), float32(ea / (ea + eb))}",
		Packages: []string{"./encoder/", "./rerank/", "./searcher/"},
		Why:      "p_match and p_no_match exchanged: every match score inverted",
	},
	{
		Name: "golden-p-match-informational", File: "encoder/golden.go",
		Old:      "OK: worstP <= tol.PMatchAbs},",
		New:      "OK: true},",
		Packages: []string{"./encoder/", "./cmd/searcher/"},
		Why:      "verify-model passes a bundle whose match probabilities are wrong",
	},
	{
		Name: "preprocess-mean-shift", File: "encoder/preprocess.go",
		Old:      "norm[c][v] = (float32(v)/255 - p.mean[c]) / p.std[c]",
		New:      "norm[c][v] = (float32(v+1)/255 - p.mean[c]) / p.std[c]",
		Packages: []string{"./encoder/"},
		Why:      "every pixel one 8-bit level too bright: embeddings drift from the reference",
	},
	{
		Name: "crop-rounding-floor", File: "encoder/preprocess.go",
		Old:      "left = int(math.RoundToEven(float64(rw-s) / 2))",
		New:      "left = (rw - s) / 2",
		Packages: []string{"./encoder/"},
		Why:      "CLIP's centre crop one pixel off on odd margins",
	},
	{
		Name: "wordpiece-no-lowercase", File: "encoder/tokenizer/wordpiece.go",
		Old:      "decomposed := norm.NFD.AppendString(nil, pyLower(string(word)))",
		New:      "decomposed := norm.NFD.AppendString(nil, string(word))",
		Packages: []string{"./encoder/tokenizer/"},
		Why:      "capitalised words become [UNK] in an uncased BERT vocabulary",
	},
	{
		Name: "bpe-merge-rank-reversed", File: "encoder/tokenizer/bpe.go",
		Old:      "ok && (best.rank < 0 || m.rank < best.rank) {",
		New:      "ok && (best.rank < 0 || m.rank > best.rank) {",
		Packages: []string{"./encoder/tokenizer/"},
		Why:      "CLIP merges applied in the wrong order: token ids the model never saw",
	},
	{
		Name: "unigram-case-inverted", File: "encoder/tokenizer/unigram.go",
		Old:      "lower: !opts.Cased,",
		New:      "lower: opts.Cased,",
		Packages: []string{"./encoder/tokenizer/"},
		Why:      "SigLIP texts keep their capitals: ids differ from the reference",
	},
	{
		Name: "blip-caption-words", File: "encoder/tokenizer/clean.go",
		Old:      "const blipCaptionWords = 30",
		New:      "const blipCaptionWords = 20",
		Packages: []string{"./encoder/tokenizer/"},
		Why:      "long captions cut earlier than BLIP's evaluation cuts them",
	},
	{
		Name: "batch-last-partial-dropped", File: "indexer/indexer.go",
		Old:      "if !ok {\n\t\t\t\t\tflush()\n\t\t\t\t\treturn",
		New:      "if !ok {\n\t\t\t\t\treturn",
		Packages: []string{"./indexer/"},
		Why:      "the photos of the last, partial batch are never indexed",
	},
	{
		Name: "unchanged-ignores-mtime", File: "indexer/file.go",
		Old:      "rec.Size == info.Size() && rec.ModTime.Equal(info.ModTime())",
		New:      "rec.Size == info.Size()",
		Packages: []string{"./indexer/"},
		Why:      "an edited photo of the same size keeps its old embedding",
	},
	{
		Name: "bbolt-no-fsync", File: "store/db.go",
		Old:      "NoSync:       o.NoSync,",
		New:      "NoSync:       true,",
		Packages: []string{"./store/"},
		Why:      "commits are not fsynced: a power cut loses indexed photos",
	},
	{
		Name: "api-key-prefix", File: "web/auth.go",
		Old:      "ok |= subtle.ConstantTimeCompare(d[:], k.digests[i][:])",
		New:      "ok |= subtle.ConstantTimeCompare(d[:1], k.digests[i][:1])",
		Packages: []string{"./web/"},
		Why:      "any key sharing one digest byte with a real key is accepted",
	},
	{
		Name: "threshold-ignored", File: "searcher/params.go",
		Old:      "if float64(c.p) >= p.min {",
		New:      "if float64(c.p) >= 0 {",
		Packages: []string{"./searcher/"},
		Why:      "\"no confident match\" never answers: weak matches are shown as hits",
	},
	{
		Name: "rank-logit-is-p", File: "searcher/params.go",
		Old:      "case p.rank == RankITMLogit:\n\t\treturn float64(c.logit)",
		New:      "case p.rank == RankITMLogit:\n\t\treturn float64(c.p)",
		Packages: []string{"./searcher/"},
		Why:      "mPLUG's evaluation order (raw match logit) silently replaced by p_match",
	},
}
