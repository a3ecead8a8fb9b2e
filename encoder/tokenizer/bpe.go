package tokenizer

import (
	"bufio"
	"compress/gzip"
	"container/heap"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CLIP vocabulary layout constants (simple_tokenizer.py).
const (
	// DefaultBPEContextLength is CLIP's context length.
	DefaultBPEContextLength = 77
	// CLIPNumMerges is how many merges CLIP uses: merges[1:49152-256-2+1].
	CLIPNumMerges = 49152 - 256 - 2
	// CLIPVocabSize is 256 byte symbols, 256 end-of-word byte symbols, the
	// merges and the two special tokens.
	CLIPVocabSize = 2*256 + CLIPNumMerges + 2

	bpeCacheMax     = 1 << 16 // entries before the cache is reset
	bpeCacheWordMax = 64      // longer words are not cached
	bpeHeapMin      = 48      // words with more symbols use the O(n log n) merger
)

// BPEOptions configures NewBPE.
type BPEOptions struct {
	// ContextLength is the length of every Encoding, start and end tokens
	// included (0 means DefaultBPEContextLength; otherwise at least 2).
	ContextLength int
	// Clean is the text clean-up: CleanOpenAI ("" means it: OpenAI's and
	// open_clip's tokenizer) or CleanHF (the Hugging Face CLIP tokenizer).
	Clean string
	// Pad is the id padding every Encoding (0 by default, OpenAI's; the
	// Hugging Face CLIP tokenizers pad with <|endoftext|>, 49407).
	Pad int32
}

// BPE is OpenAI CLIP's byte-level BPE tokenizer (simple_tokenizer.py), or
// with BPEOptions.Clean CleanHF the Hugging Face CLIP tokenizer (the same
// merges and word splitting after NFC alone).
//
// In the OpenAI clean-up, ftfy is approximated by its cheap, common fixes (HTML entities, terminal
// escapes, curly quotes, Latin ligatures, full-width characters, control
// characters, NFC); mojibake repair is not attempted. Invalid UTF-8 bytes are
// read as U+FFFD. As in the reference, the literal strings "<|startoftext|>"
// and "<|endoftext|>" in the text map to the special tokens.
//
// A BPE is safe for concurrent use; its word cache is mutex-protected and
// bounded.
type BPE struct {
	byteID  [256]int32          // byte -> id of its bytes_to_unicode symbol
	merges  map[uint64]bpeMerge // (left id, right id) -> merge
	inv     []string            // id -> symbol
	ctx     int
	sot     int32
	eot     int32
	pad     int32
	hf      bool // Clean is CleanHF
	ordered bool // every merge's parts were created by earlier merges

	mu    sync.RWMutex
	cache map[string][]int32
}

type bpeMerge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// LoadBPE reads a bpe_simple_vocab_16e6.txt.gz file and calls NewBPE.
func LoadBPE(path string, opts BPEOptions) (*BPE, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open bpe merges: %w", err)
	}
	defer f.Close()
	t, err := NewBPE(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return t, nil
}

// bytesToUnicode is CLIP's bytes_to_unicode: the returned order is the
// vocabulary order, and each byte's symbol is its rune.
func bytesToUnicode() (order [256]byte, sym [256]rune) {
	var printable [256]bool
	n := 0
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			printable[b] = true
			order[n], sym[b] = byte(b), rune(b)
			n++
		}
	}
	extra := 0
	for b := 0; b < 256; b++ {
		if !printable[b] {
			order[n], sym[b] = byte(b), rune(256+extra)
			n++
			extra++
		}
	}
	return order, sym
}

// NewBPE builds CLIP's tokenizer from the gzip-compressed merges file.
func NewBPE(mergesGz io.Reader, opts BPEOptions) (*BPE, error) {
	if opts.ContextLength == 0 {
		opts.ContextLength = DefaultBPEContextLength
	}
	if opts.ContextLength < 2 {
		return nil, fmt.Errorf("tokenizer: bpe ContextLength %d is below 2 (room for start and end tokens)", opts.ContextLength)
	}
	if err := checkClean("bpe", opts.Clean, CleanOpenAI, CleanHF); err != nil {
		return nil, err
	}
	if opts.Pad < 0 || int(opts.Pad) >= CLIPVocabSize {
		return nil, fmt.Errorf("tokenizer: bpe Pad %d is outside the vocabulary (0..%d)", opts.Pad, CLIPVocabSize-1)
	}
	zr, err := gzip.NewReader(mergesGz)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open bpe merges gzip: %w", err)
	}
	defer zr.Close()

	t := &BPE{
		merges: make(map[uint64]bpeMerge, CLIPNumMerges),
		inv:    make([]string, 0, CLIPVocabSize),
		ctx:    opts.ContextLength,
		hf:     opts.Clean == CleanHF,
		pad:    opts.Pad,
		cache:  make(map[string][]int32),
	}
	order, sym := bytesToUnicode()
	for _, b := range order {
		t.inv = append(t.inv, string(sym[b]))
	}
	for _, b := range order {
		t.inv = append(t.inv, string(sym[b])+"</w>")
	}

	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var pairs [][2]string
	for line := 0; len(pairs) < CLIPNumMerges && sc.Scan(); line++ {
		if line == 0 {
			continue // "#version: 0.2" header
		}
		parts := strings.Fields(sc.Text())
		if len(parts) != 2 {
			return nil, fmt.Errorf("tokenizer: bpe merges line %d: want 2 fields, got %d", line+1, len(parts))
		}
		pairs = append(pairs, [2]string{parts[0], parts[1]})
		t.inv = append(t.inv, parts[0]+parts[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: read bpe merges: %w", err)
	}
	if len(pairs) < CLIPNumMerges {
		return nil, fmt.Errorf("tokenizer: bpe merges file has %d merges, want %d", len(pairs), CLIPNumMerges)
	}
	t.inv = append(t.inv, "<|startoftext|>", "<|endoftext|>")

	encoder := make(map[string]int32, len(t.inv))
	for i, s := range t.inv {
		encoder[s] = int32(i) // later duplicates win, as with Python's dict(zip(...))
	}
	t.sot, t.eot = encoder["<|startoftext|>"], encoder["<|endoftext|>"]
	for b := 0; b < 256; b++ {
		t.byteID[b] = encoder[string(sym[b])]
	}

	created := make(map[int32]int, len(pairs)) // symbol id -> rank of the merge creating it
	t.ordered = true
	for rank, p := range pairs {
		a, okA := encoder[p[0]]
		b, okB := encoder[p[1]]
		if !okA || !okB {
			continue // can never fire: every BPE symbol is a vocabulary entry
		}
		key := pairKey(a, b)
		m := bpeMerge{rank: int32(rank), id: encoder[p[0]+p[1]]}
		if old, dup := t.merges[key]; dup {
			m.rank = old.rank // keep the first rank so ranks stay unique
			t.ordered = false
		}
		t.merges[key] = m
		for _, part := range [2]int32{a, b} {
			if r, ok := created[part]; ok && r >= rank {
				t.ordered = false
			}
		}
		if _, ok := created[m.id]; !ok {
			created[m.id] = rank
		}
	}
	return t, nil
}

// MaxLen returns the context length.
func (t *BPE) MaxLen() int { return t.ctx }

// VocabSize returns the vocabulary size (49408 for CLIP).
func (t *BPE) VocabSize() int { return len(t.inv) }

// SpecialIDs returns the ids of <|startoftext|> and <|endoftext|> and the padding id.
func (t *BPE) SpecialIDs() (sot, eot, pad int64) { return int64(t.sot), int64(t.eot), int64(t.pad) }

// Encode returns <|startoftext|> tokens… <|endoftext|> zero-padded to the
// context length (with BPEOptions.Pad); over-long input is cut with
// <|endoftext|> as last token.
func (t *BPE) Encode(text string) Encoding {
	e := Encoding{IDs: make([]int64, t.ctx), Mask: make([]int64, t.ctx)}
	t.encodeInto(text, e.IDs, e.Mask)
	return e
}

// EncodeBatch is EncodeBatch(t, texts).
func (t *BPE) EncodeBatch(texts []string) (ids, mask []int64) { return EncodeBatch(t, texts) }

func (t *BPE) encodeInto(text string, ids, mask []int64) {
	limit := t.ctx - 2
	var buf [80]int32
	body := t.appendIDs(buf[:0], text, limit)
	if len(body) > limit {
		body = body[:limit]
	}
	fillEncoding(ids, mask, int64(t.sot), body, int64(t.eot), int64(t.pad))
}

// IDs returns the token ids of text without start/end tokens or truncation.
func (t *BPE) IDs(text string) []int32 { return t.appendIDs(nil, text, -1) }

// Tokens returns the BPE symbols of text (end-of-word marked "</w>"), without
// start/end tokens or truncation; for debugging and tests.
func (t *BPE) Tokens(text string) []string {
	ids := t.appendIDs(nil, text, -1)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.inv[id]
	}
	return out
}

func (t *BPE) appendIDs(dst []int32, text string, limit int) []int32 {
	if t.hf {
		text = hfCLIPClean(text)
	} else {
		text = clipClean(text)
	}
	for pos := 0; pos < len(text); {
		start, end := clipNextWord(text, pos)
		if start < 0 {
			break
		}
		pos = end
		dst = t.appendWord(dst, text[start:end])
		if limit >= 0 && len(dst) >= limit {
			break
		}
	}
	return dst
}

func (t *BPE) appendWord(dst []int32, word string) []int32 {
	switch word {
	case "<|startoftext|>":
		return append(dst, t.sot)
	case "<|endoftext|>":
		return append(dst, t.eot)
	}
	cacheable := len(word) <= bpeCacheWordMax
	if cacheable {
		t.mu.RLock()
		ids, ok := t.cache[word]
		t.mu.RUnlock()
		if ok {
			return append(dst, ids...)
		}
	}
	syms := make([]int32, len(word))
	for i := 0; i < len(word); i++ {
		syms[i] = t.byteID[word[i]]
	}
	syms[len(syms)-1] += 256 // last symbol carries "</w>"
	if len(syms) >= bpeHeapMin && t.ordered {
		syms = t.mergeHeap(syms)
	} else {
		syms = t.mergeSimple(syms)
	}
	if cacheable {
		t.mu.Lock()
		if len(t.cache) >= bpeCacheMax {
			clear(t.cache)
		}
		t.cache[strings.Clone(word)] = syms
		t.mu.Unlock()
	}
	return append(dst, syms...)
}

// mergeSimple is simple_tokenizer.bpe: repeatedly pick the lowest-ranked
// adjacent pair and merge all its occurrences left to right.
func (t *BPE) mergeSimple(w []int32) []int32 {
	for len(w) > 1 {
		best := bpeMerge{rank: -1}
		var ba, bb int32
		for i := 0; i+1 < len(w); i++ {
			if m, ok := t.merges[pairKey(w[i], w[i+1])]; ok && (best.rank < 0 || m.rank < best.rank) {
				best, ba, bb = m, w[i], w[i+1]
			}
		}
		if best.rank < 0 {
			break
		}
		j := 0
		for i := 0; i < len(w); j++ {
			if i+1 < len(w) && w[i] == ba && w[i+1] == bb {
				w[j] = best.id
				i += 2
			} else {
				w[j] = w[i]
				i++
			}
		}
		w = w[:j]
	}
	return w
}

type bpeCand struct{ rank, pos int32 }
type bpeHeap []bpeCand

func (h bpeHeap) Len() int { return len(h) }
func (h bpeHeap) Less(i, j int) bool {
	return h[i].rank < h[j].rank || h[i].rank == h[j].rank && h[i].pos < h[j].pos
}
func (h bpeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *bpeHeap) Push(x any)   { *h = append(*h, x.(bpeCand)) }
func (h *bpeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeHeap gives the same result as mergeSimple in O(n log n) when merges
// are ordered (each merge's parts are created by lower-ranked merges): then
// merging by (rank, position) merges all occurrences of the lowest-ranked
// pair left to right before any higher-ranked pair, exactly like the
// reference.
func (t *BPE) mergeHeap(w []int32) []int32 {
	n := len(w)
	next := make([]int32, n) // -1: none
	prev := make([]int32, n)
	alive := make([]bool, n)
	for i := range w {
		next[i], prev[i], alive[i] = int32(i+1), int32(i-1), true
	}
	next[n-1] = -1
	h := make(bpeHeap, 0, n)
	for i := 0; i+1 < n; i++ {
		if m, ok := t.merges[pairKey(w[i], w[i+1])]; ok {
			h = append(h, bpeCand{m.rank, int32(i)})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		c := heap.Pop(&h).(bpeCand)
		i := c.pos
		if !alive[i] || next[i] < 0 {
			continue
		}
		j := next[i]
		m, ok := t.merges[pairKey(w[i], w[j])]
		if !ok || m.rank != c.rank {
			continue // stale candidate
		}
		w[i] = m.id
		alive[j] = false
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		if p := prev[i]; p >= 0 {
			if m, ok := t.merges[pairKey(w[p], w[i])]; ok {
				heap.Push(&h, bpeCand{m.rank, p})
			}
		}
		if k := next[i]; k >= 0 {
			if m, ok := t.merges[pairKey(w[i], w[k])]; ok {
				heap.Push(&h, bpeCand{m.rank, i})
			}
		}
	}
	out := w[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, w[i])
	}
	return out
}

// clipNextWord finds the next match of CLIP's pre-tokenisation regex
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// (case-insensitive) in text at or after pos, returning byte offsets, or -1
// when there is none. text must be valid UTF-8 (clipClean guarantees it).
func clipNextWord(text string, pos int) (start, end int) {
	for pos < len(text) && isASCIISpace(text[pos]) {
		pos++
	}
	if pos >= len(text) {
		return -1, -1
	}
	rest := text[pos:]
	for _, s := range [...]string{"<|startoftext|>", "<|endoftext|>"} {
		if len(rest) >= len(s) && strings.EqualFold(rest[:len(s)], s) {
			return pos, pos + len(s)
		}
	}
	if rest[0] == '\'' {
		for _, s := range [...]string{"s", "t", "re", "ve", "m", "ll", "d"} {
			if n := foldPrefix(rest[1:], s); n > 0 {
				return pos, pos + 1 + n
			}
		}
	}
	r, size := utf8.DecodeRuneInString(rest)
	switch {
	case unicode.IsLetter(r):
		end = pos + size
		for end < len(text) {
			r, size := utf8.DecodeRuneInString(text[end:])
			if !unicode.IsLetter(r) {
				break
			}
			end += size
		}
	case unicode.IsNumber(r):
		end = pos + size
	default:
		end = pos + size
		for end < len(text) {
			if isASCIISpace(text[end]) {
				break
			}
			r, size := utf8.DecodeRuneInString(text[end:])
			if unicode.IsLetter(r) || unicode.IsNumber(r) {
				break
			}
			end += size
		}
	}
	return pos, end
}

// foldPrefix returns the byte length of the prefix of s that matches the
// ASCII string lit under simple case folding (as Go's and Python's (?i)
// regexps do, so "ſ" matches "s"), or 0.
func foldPrefix(s, lit string) int {
	n := 0
	for _, want := range lit {
		if n >= len(s) {
			return 0
		}
		r, size := utf8.DecodeRuneInString(s[n:])
		if !equalFoldRune(r, want) {
			return 0
		}
		n += size
	}
	return n
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// isASCIISpace is Go's regexp \s, which is all the whitespace left after
// clipClean collapses whitespace runs to single spaces.
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// isPySpace is Python's str.isspace (the \s of the re module).
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// clipClean is CLIP's whitespace_clean(basic_clean(text)).lower(), with ftfy
// approximated by ftfyLite.
func clipClean(text string) string {
	text = ftfyLite(text)
	text = html.UnescapeString(html.UnescapeString(text))
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		if isPySpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return pyLower(b.String())
}

// ftfyLite applies the parts of ftfy.fix_text that matter for captions and
// need no statistical model: HTML unescaping when the text has no '<',
// removal of terminal escapes and control characters, uncurling quotes,
// expanding Latin ligatures, narrowing full-width characters and NFC. Invalid
// UTF-8 bytes become U+FFFD.
func ftfyLite(text string) string {
	if !strings.Contains(text, "<") {
		text = html.UnescapeString(text)
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		c := text[i]
		if c == 0x1b && i+1 < len(text) && text[i+1] == '[' {
			if n := terminalEscapeLen(text[i:]); n > 0 {
				i += n
				continue
			}
		}
		if c < utf8.RuneSelf {
			i++
			if c <= 0x08 || c == 0x0b || c >= 0x0e && c <= 0x1f || c == 0x7f {
				continue
			}
			b.WriteByte(c)
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r >= 0x206A && r <= 0x206F, r == 0xFEFF, r >= 0xFFF9 && r <= 0xFFFC:
		case r == 0x02BC || r >= 0x2018 && r <= 0x201B:
			b.WriteByte('\'')
		case r >= 0x201C && r <= 0x201F:
			b.WriteByte('"')
		case r == 0x3000:
			b.WriteByte(' ')
		case r >= 0xFF01 && r <= 0xFFEF:
			b.WriteString(norm.NFKC.String(string(r)))
		default:
			if lig, ok := latinLigatures[r]; ok {
				b.WriteString(lig)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return norm.NFC.String(b.String())
}

// terminalEscapeLen matches ftfy's \x1b\[((?:\d|;)*)([a-zA-Z]) at s's start.
func terminalEscapeLen(s string) int {
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' || c == ';':
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

var latinLigatures = map[rune]string{
	'Ĳ': "IJ", 'ĳ': "ij", 'ŉ': "'n", // ftfy uncurls the ʼ it produces

	'Ǳ': "DZ", 'ǲ': "Dz", 'ǳ': "dz",
	'Ǆ': "DŽ", 'ǅ': "Dž", 'ǆ': "dž",
	'Ǉ': "LJ", 'ǈ': "Lj", 'ǉ': "lj",
	'Ǌ': "NJ", 'ǋ': "Nj", 'ǌ': "nj",
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "ſt", 'ﬆ': "st",
}
