package tokenizer

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// hfModel is tokenizer.json's model: it appends the ids of one pre-tokenized
// piece to dst.
type hfModel interface {
	tokenize(dst []int32, piece string) []int32
	// tokenID is the model's token_to_id.
	tokenID(s string) (int32, bool)
	// size is the model's get_vocab_size, from which new added tokens get
	// their ids.
	size() int
	// maxID is the largest id the model can return.
	maxID() int32
}

// parseVocab reads a {"token": id, ...} object; later duplicates win, as in
// serde's HashMap.
func (b *hfBuilder) parseVocab(raw json.RawMessage, path string) (map[string]int32, int32, error) {
	var v map[string]int64
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, 0, b.bad(path, "vocab: %v", err)
	}
	if len(v) > hfMaxVocab {
		return nil, 0, b.bad(path, "vocab of %d tokens (max %d)", len(v), hfMaxVocab)
	}
	out := make(map[string]int32, len(v))
	maxID := int32(-1)
	for tok, id := range v {
		if id < 0 || id > hfMaxID {
			return nil, 0, b.bad(path, "token %q has id %d outside 0..%d", tok, id, hfMaxID)
		}
		if len(tok) > hfMaxTokenBytes {
			return nil, 0, b.bad(path, "token of %d bytes (max %d)", len(tok), hfMaxTokenBytes)
		}
		out[tok] = int32(id)
		maxID = max(maxID, int32(id))
	}
	return out, maxID, nil
}

func (b *hfBuilder) parseModel(raw json.RawMessage) (hfModel, error) {
	const path = "model"
	typ, err := b.component(raw, path, 0)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "":
		return nil, b.bad(path, "missing")
	case "BPE":
		return b.parseBPE(raw)
	case "WordPiece":
		return b.parseWordPiece(raw)
	case "WordLevel":
		return b.parseWordLevel(raw)
	case "Unigram":
		return b.parseUnigram(raw)
	}
	return nil, b.unsupported(path, typ)
}

// hfBPE is tokenizers' BPE model.
type hfBPE struct {
	vocab        map[string]int32
	merges       map[uint64]bpeMerge // (left, right) -> rank and merged id
	maxTokID     int32
	unk          int32 // -1: none
	prefix       string
	suffix       string
	fuseUnk      bool
	byteFallback bool
	byteIDs      [256]int32 // with byte fallback: id of "<0xXX>", or -1
	ignoreMerges bool

	mu    sync.RWMutex
	cache map[string][]int32
}

func (b *hfBuilder) parseBPE(raw json.RawMessage) (hfModel, error) {
	const path = "model (BPE)"
	var v struct {
		Dropout      *float64         `json:"dropout"`
		UnkToken     *string          `json:"unk_token"`
		Prefix       *string          `json:"continuing_subword_prefix"`
		Suffix       *string          `json:"end_of_word_suffix"`
		FuseUnk      *bool            `json:"fuse_unk"`
		ByteFallback *bool            `json:"byte_fallback"`
		IgnoreMerges *bool            `json:"ignore_merges"`
		Vocab        *json.RawMessage `json:"vocab"`
		Merges       *json.RawMessage `json:"merges"`
	}
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	if v.Vocab == nil || v.Merges == nil {
		return nil, b.missing(path, "vocab and merges")
	}
	if v.Dropout != nil && *v.Dropout != 0 {
		return nil, fmt.Errorf("%w: %s: dropout %g makes tokenization random", ErrUnsupportedHFJSON, path, *v.Dropout)
	}
	vocab, maxID, err := b.parseVocab(*v.Vocab, path)
	if err != nil {
		return nil, err
	}
	m := &hfBPE{vocab: vocab, maxTokID: maxID, unk: -1, cache: make(map[string][]int32)}
	if v.Prefix != nil {
		m.prefix = *v.Prefix
	}
	if v.Suffix != nil {
		m.suffix = *v.Suffix
	}
	if len(m.prefix) > hfMaxTokenBytes || len(m.suffix) > hfMaxTokenBytes {
		return nil, b.bad(path, "continuing_subword_prefix or end_of_word_suffix too long")
	}
	m.fuseUnk = v.FuseUnk != nil && *v.FuseUnk
	m.byteFallback = v.ByteFallback != nil && *v.ByteFallback
	m.ignoreMerges = v.IgnoreMerges != nil && *v.IgnoreMerges
	if v.UnkToken != nil {
		id, ok := vocab[*v.UnkToken]
		if !ok { // tokenizers fails the encoding of any unknown character
			return nil, b.bad(path, "unk_token %q is not in the vocab", *v.UnkToken)
		}
		m.unk = id
	}
	for c := range 256 {
		m.byteIDs[c] = -1
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", c)]; ok {
			m.byteIDs[c] = id
		}
	}
	pairs, err := b.parseMerges(*v.Merges, path)
	if err != nil {
		return nil, err
	}
	m.merges = make(map[uint64]bpeMerge, len(pairs))
	for rank, p := range pairs {
		a, okA := vocab[p[0]]
		c, okB := vocab[p[1]]
		if !okA || !okB {
			return nil, b.bad(path, "merge %d (%q %q): token not in the vocab", rank, p[0], p[1])
		}
		// tokenizers slices the prefix's length off the right part.
		if len(p[1]) < len(m.prefix) || len(p[1]) > len(m.prefix) && !utf8.RuneStart(p[1][len(m.prefix)]) {
			return nil, b.bad(path, "merge %d (%q %q): right part does not start with a continuing_subword_prefix's length", rank, p[0], p[1])
		}
		merged := p[0] + p[1][len(m.prefix):]
		id, ok := vocab[merged]
		if !ok {
			return nil, b.bad(path, "merge %d: %q is not in the vocab", rank, merged)
		}
		m.merges[pairKey(a, c)] = bpeMerge{rank: int32(rank), id: id} // later duplicates win, as in tokenizers
	}
	return m, nil
}

// parseMerges reads merges as ["a b", ...] or [["a", "b"], ...].
func (b *hfBuilder) parseMerges(raw json.RawMessage, path string) ([][2]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, b.bad(path, "merges: %v", err)
	}
	if len(items) > hfMaxVocab {
		return nil, b.bad(path, "%d merges (max %d)", len(items), hfMaxVocab)
	}
	pairs := make([][2]string, 0, len(items))
	legacy := len(items) > 0 && len(items[0]) > 0 && items[0][0] == '"'
	rank := 0
	for i, it := range items {
		if legacy {
			var line string
			if err := json.Unmarshal(it, &line); err != nil {
				return nil, b.bad(path, "merge %d: all merges must be strings or all pairs: %v", i, err)
			}
			if strings.HasPrefix(line, "#version") {
				continue
			}
			parts := strings.Split(line, " ")
			if len(parts) != 2 {
				return nil, b.bad(path, "merge %d (%q) is not two tokens separated by a space", rank+1, line)
			}
			pairs = append(pairs, [2]string{parts[0], parts[1]})
		} else {
			var pair []string
			if err := json.Unmarshal(it, &pair); err != nil || len(pair) != 2 {
				return nil, b.bad(path, "merge %d: all merges must be strings or all pairs of strings", i)
			}
			pairs = append(pairs, [2]string{pair[0], pair[1]})
		}
		rank++
	}
	return pairs, nil
}

func (m *hfBPE) tokenID(s string) (int32, bool) { id, ok := m.vocab[s]; return id, ok }
func (m *hfBPE) size() int                      { return len(m.vocab) }
func (m *hfBPE) maxID() int32                   { return m.maxTokID }

func (m *hfBPE) tokenize(dst []int32, piece string) []int32 {
	if piece == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[piece]; ok {
			return append(dst, id)
		}
	}
	cacheable := len(piece) <= bpeCacheWordMax
	if cacheable {
		m.mu.RLock()
		ids, ok := m.cache[piece]
		m.mu.RUnlock()
		if ok {
			return append(dst, ids...)
		}
	}
	ids := m.mergeWord(piece)
	if cacheable {
		m.mu.Lock()
		if len(m.cache) >= bpeCacheMax {
			clear(m.cache)
		}
		m.cache[strings.Clone(piece)] = ids
		m.mu.Unlock()
	}
	return append(dst, ids...)
}

// mergeWord is tokenizers' BPE::merge_word then Word::merge_all.
func (m *hfBPE) mergeWord(w string) []int32 {
	var syms []int32
	unk, unkPending := int32(0), false
	var sb strings.Builder
	for i, r := range w {
		size := utf8.RuneLen(r)
		sb.Reset()
		if i > 0 {
			sb.WriteString(m.prefix)
		}
		sb.WriteString(w[i : i+size])
		if i+size == len(w) {
			sb.WriteString(m.suffix)
		}
		s := sb.String()
		if id, ok := m.vocab[s]; ok {
			if unkPending {
				syms = append(syms, unk)
				unkPending = false
			}
			syms = append(syms, id)
			continue
		}
		if m.byteFallback {
			if out, ok := appendBytes(syms, &m.byteIDs, s); ok {
				syms = out // tokenizers does not flush a pending unknown token here
				continue
			}
		}
		if m.unk >= 0 {
			if unkPending && !m.fuseUnk {
				syms = append(syms, unk)
			}
			unk, unkPending = m.unk, true
		}
	}
	if unkPending {
		syms = append(syms, unk)
	}
	return m.mergeAll(syms)
}

type hfMergeCand struct {
	rank, pos int32
	id        int32
}
type hfMergeHeap []hfMergeCand

func (h hfMergeHeap) Len() int { return len(h) }
func (h hfMergeHeap) Less(i, j int) bool {
	return h[i].rank < h[j].rank || h[i].rank == h[j].rank && h[i].pos < h[j].pos
}
func (h hfMergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *hfMergeHeap) Push(x any)   { *h = append(*h, x.(hfMergeCand)) }
func (h *hfMergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeAll is Word::merge_all: the (rank, position)-lowest merge first; a
// queued merge is stale when the pair at its position no longer makes its
// id.
func (m *hfBPE) mergeAll(w []int32) []int32 {
	n := len(w)
	if n < 2 {
		return w
	}
	next := make([]int32, n)
	prev := make([]int32, n)
	alive := make([]bool, n)
	for i := range w {
		next[i], prev[i], alive[i] = int32(i+1), int32(i-1), true
	}
	next[n-1] = -1
	h := make(hfMergeHeap, 0, n)
	for i := 0; i+1 < n; i++ {
		if mg, ok := m.merges[pairKey(w[i], w[i+1])]; ok {
			h = append(h, hfMergeCand{mg.rank, int32(i), mg.id})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		c := heap.Pop(&h).(hfMergeCand)
		i := c.pos
		if !alive[i] || next[i] < 0 {
			continue
		}
		j := next[i]
		mg, ok := m.merges[pairKey(w[i], w[j])]
		if !ok || mg.id != c.id {
			continue
		}
		w[i] = c.id
		alive[j] = false
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		if p := prev[i]; p >= 0 {
			if mg, ok := m.merges[pairKey(w[p], w[i])]; ok {
				heap.Push(&h, hfMergeCand{mg.rank, p, mg.id})
			}
		}
		if k := next[i]; k >= 0 {
			if mg, ok := m.merges[pairKey(w[i], w[k])]; ok {
				heap.Push(&h, hfMergeCand{mg.rank, i, mg.id})
			}
		}
	}
	out := make([]int32, 0, n)
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, w[i])
	}
	return out
}

// hfWordPiece is tokenizers' WordPiece model, run by WordPiece.appendPiece
// (greedy longest match first, the whole word unknown when a part is).
type hfWordPiece struct {
	wp       *WordPiece
	maxTokID int32
}

func (b *hfBuilder) parseWordPiece(raw json.RawMessage) (hfModel, error) {
	const path = "model (WordPiece)"
	var v struct {
		UnkToken *string          `json:"unk_token"`
		Prefix   *string          `json:"continuing_subword_prefix"`
		MaxChars *int             `json:"max_input_chars_per_word"`
		Vocab    *json.RawMessage `json:"vocab"`
	}
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	if v.Vocab == nil {
		return nil, b.missing(path, "vocab")
	}
	vocab, maxID, err := b.parseVocab(*v.Vocab, path)
	if err != nil {
		return nil, err
	}
	unk, prefix, maxChars := "[UNK]", "##", 100
	if v.UnkToken != nil {
		unk = *v.UnkToken
	}
	if v.Prefix != nil {
		prefix = *v.Prefix
	}
	if v.MaxChars != nil {
		maxChars = *v.MaxChars
	}
	if maxChars < 0 {
		return nil, b.bad(path, "max_input_chars_per_word %d is negative", maxChars)
	}
	unkID, ok := vocab[unk]
	if !ok { // tokenizers fails the encoding of any unknown word
		return nil, b.bad(path, "unk_token %q is not in the vocab", unk)
	}
	wp := &WordPiece{vocab: vocab, cont: make(map[string]int32), maxChars: maxChars, unk: unkID}
	for tok, id := range vocab {
		wp.maxTok = max(wp.maxTok, len(tok))
		if rest, ok := strings.CutPrefix(tok, prefix); ok {
			wp.cont[rest] = id
			wp.maxCont = max(wp.maxCont, len(rest))
		}
	}
	return &hfWordPiece{wp: wp, maxTokID: maxID}, nil
}

func (m *hfWordPiece) tokenize(dst []int32, piece string) []int32 {
	return m.wp.appendPiece(dst, []byte(piece))
}
func (m *hfWordPiece) tokenID(s string) (int32, bool) { id, ok := m.wp.vocab[s]; return id, ok }
func (m *hfWordPiece) size() int                      { return len(m.wp.vocab) }
func (m *hfWordPiece) maxID() int32                   { return m.maxTokID }

// hfWordLevel is tokenizers' WordLevel model: a piece is a token or unknown.
type hfWordLevel struct {
	vocab    map[string]int32
	unk      int32
	maxTokID int32
}

func (b *hfBuilder) parseWordLevel(raw json.RawMessage) (hfModel, error) {
	const path = "model (WordLevel)"
	var v struct {
		UnkToken *string          `json:"unk_token"`
		Vocab    *json.RawMessage `json:"vocab"`
	}
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	if v.Vocab == nil {
		return nil, b.missing(path, "vocab")
	}
	vocab, maxID, err := b.parseVocab(*v.Vocab, path)
	if err != nil {
		return nil, err
	}
	unk := "<unk>"
	if v.UnkToken != nil {
		unk = *v.UnkToken
	}
	unkID, ok := vocab[unk]
	if !ok {
		return nil, b.bad(path, "unk_token %q is not in the vocab", unk)
	}
	return &hfWordLevel{vocab: vocab, unk: unkID, maxTokID: maxID}, nil
}

func (m *hfWordLevel) tokenize(dst []int32, piece string) []int32 {
	if id, ok := m.vocab[piece]; ok {
		return append(dst, id)
	}
	return append(dst, m.unk)
}
func (m *hfWordLevel) tokenID(s string) (int32, bool) { id, ok := m.vocab[s]; return id, ok }
func (m *hfWordLevel) size() int                      { return len(m.vocab) }
func (m *hfWordLevel) maxID() int32                   { return m.maxTokID }

// hfUnigram is tokenizers' Unigram model: Viterbi over float64 piece scores
// (its encode_optimized, whose tie-breaking and arithmetic differ from
// SentencePiece's), runs of unknown characters fused into one token.
type hfUnigram struct {
	pieces       []string
	scores       []float64
	ids          map[string]int32 // later duplicates win
	trie         *pieceTrie       // keys: the pieces, duplicates blanked but the last
	unk          int32
	unkScore     float64
	byteFallback bool
	byteIDs      [256]int32
}

func (b *hfBuilder) parseUnigram(raw json.RawMessage) (hfModel, error) {
	const path = "model (Unigram)"
	var v struct {
		UnkID        *int               `json:"unk_id"`
		Vocab        *[]json.RawMessage `json:"vocab"`
		ByteFallback *bool              `json:"byte_fallback"`
	}
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	if v.Vocab == nil {
		return nil, b.missing(path, "vocab")
	}
	if len(*v.Vocab) > hfMaxVocab {
		return nil, b.bad(path, "vocab of %d pieces (max %d)", len(*v.Vocab), hfMaxVocab)
	}
	if v.UnkID == nil { // tokenizers fails the encoding of any unknown character
		return nil, fmt.Errorf("%w: %s: unk_id null is not supported", ErrUnsupportedHFJSON, path)
	}
	n := len(*v.Vocab)
	m := &hfUnigram{
		pieces:       make([]string, n),
		scores:       make([]float64, n),
		ids:          make(map[string]int32, n),
		byteFallback: v.ByteFallback != nil && *v.ByteFallback,
	}
	minScore := math.Inf(1)
	for i, r := range *v.Vocab {
		var pair []json.RawMessage
		if err := json.Unmarshal(r, &pair); err != nil || len(pair) != 2 {
			return nil, b.bad(path, "vocab[%d] is not a [piece, score] pair", i)
		}
		if err := json.Unmarshal(pair[0], &m.pieces[i]); err != nil {
			return nil, b.bad(path, "vocab[%d]: piece: %v", i, err)
		}
		if err := json.Unmarshal(pair[1], &m.scores[i]); err != nil {
			return nil, b.bad(path, "vocab[%d]: score: %v", i, err)
		}
		if len(m.pieces[i]) > hfMaxTokenBytes {
			return nil, b.bad(path, "vocab[%d] has %d bytes (max %d)", i, len(m.pieces[i]), hfMaxTokenBytes)
		}
		m.ids[m.pieces[i]] = int32(i)
		minScore = min(minScore, m.scores[i])
	}
	if n == 0 {
		return nil, b.bad(path, "empty vocab")
	}
	if *v.UnkID < 0 || *v.UnkID >= n {
		return nil, b.bad(path, "unk_id %d is not in the vocab (%d pieces)", *v.UnkID, n)
	}
	m.unk = int32(*v.UnkID)
	m.unkScore = minScore - 10
	keys := make([]string, n)
	for i, p := range m.pieces {
		if m.ids[p] == int32(i) {
			keys[i] = p
		}
	}
	m.trie = newPieceTrie(keys)
	for c := range 256 {
		m.byteIDs[c] = -1
		if id, ok := m.ids[fmt.Sprintf("<0x%02X>", c)]; ok {
			m.byteIDs[c] = id
		}
	}
	return m, nil
}

func (m *hfUnigram) tokenID(s string) (int32, bool) { id, ok := m.ids[s]; return id, ok }
func (m *hfUnigram) size() int                      { return len(m.pieces) }
func (m *hfUnigram) maxID() int32                   { return int32(len(m.pieces) - 1) }

type hfBestPath struct {
	score float64
	start int32 // -1: not reached
	id    int32
}

func (m *hfUnigram) tokenize(dst []int32, s string) []int32 {
	n := len(s)
	if n == 0 {
		return dst
	}
	best := make([]hfBestPath, n+1)
	for i := range best {
		best[i].start = -1
	}
	for pos := 0; pos < n; {
		till := best[pos].score
		_, mblen := utf8.DecodeRuneInString(s[pos:])
		single := false
		node := m.trie.root[s[pos]]
		for k := pos + 1; node >= 0; k++ {
			if id := m.trie.nodes[node].id; id >= 0 {
				cand := m.scores[id] + till
				if t := &best[k]; t.start < 0 || cand > t.score {
					t.score, t.start, t.id = cand, int32(pos), id
				}
				if k-pos == mblen {
					single = true
				}
			}
			if k == n {
				break
			}
			node = m.trie.child(node, s[k])
		}
		if !single {
			cand := m.unkScore + till
			if t := &best[pos+mblen]; t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, int32(pos), m.unk
			}
		}
		pos += mblen
	}
	// Walk back; runs of unknown pieces are fused into one string.
	type tok struct {
		lo, hi int32
		unk    bool
		id     int32
	}
	var toks []tok
	for end := int32(n); end > 0; {
		p := best[end]
		if p.id == m.unk && len(toks) > 0 && toks[len(toks)-1].unk {
			toks[len(toks)-1].lo = p.start
		} else {
			toks = append(toks, tok{lo: p.start, hi: end, unk: p.id == m.unk, id: p.id})
		}
		end = p.start
	}
	for i := len(toks) - 1; i >= 0; i-- {
		t := toks[i]
		if !t.unk {
			dst = append(dst, t.id)
			continue
		}
		str := s[t.lo:t.hi]
		if id, ok := m.ids[str]; ok {
			dst = append(dst, id)
			continue
		}
		if m.byteFallback {
			if out, ok := appendBytes(dst, &m.byteIDs, str); ok {
				dst = out
				continue
			}
		}
		dst = append(dst, m.unk)
	}
	return dst
}

// appendBytes appends the byte-fallback tokens ("<0xXX>") of s's bytes to dst, or reports false
// (dst unchanged) when the vocabulary lacks one of them.
func appendBytes(dst []int32, byteIDs *[256]int32, s string) ([]int32, bool) {
	for j := 0; j < len(s); j++ {
		if byteIDs[s[j]] < 0 {
			return dst, false
		}
	}
	for j := 0; j < len(s); j++ {
		dst = append(dst, byteIDs[s[j]])
	}
	return dst, true
}
