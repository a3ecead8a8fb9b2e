package tokenizer

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unicode/utf8"
)

// DefaultUnigramMaxLen is SigLIP's text length, used when
// UnigramOptions.MaxLen is zero.
const DefaultUnigramMaxLen = 64

// CanonicalizeSigLIP selects SigLIP's canonicalize_text (UnigramOptions).
const CanonicalizeSigLIP = "siglip"

// UnigramOptions configures NewUnigram. The zero value is SiglipTokenizer
// without its canonicalize_text step; set Canonicalize to CanonicalizeSigLIP
// for SigLIP itself.
type UnigramOptions struct {
	// MaxLen is the length of every Encoding, the final </s> included
	// (0 means DefaultUnigramMaxLen; otherwise at least 2).
	MaxLen int
	// Cased disables lower-casing (Hugging Face's do_lower_case=False).
	Cased bool
	// Canonicalize names the text clean-up applied to the text between
	// special tokens before SentencePiece: "" (none) or CanonicalizeSigLIP
	// (remove ASCII punctuation, collapse whitespace, strip). It costs one
	// pass over the text.
	Canonicalize string
	// Special token strings; empty means "</s>", "</s>", "<unk>" (SigLIP's
	// eos, pad and unk). Each must be a piece of the model.
	EOSToken, PADToken, UNKToken string
}

// Unigram is a SentencePiece unigram tokenizer reproducing Hugging Face's
// SiglipTokenizer (transformers 4.46, the slow tokenizer, over the
// sentencepiece library) exactly:
//
//   - text is lower-cased one character at a time as Python does (not
//     lowering the special tokens' strings), after "▁" in the text is
//     replaced by a space and one "▁" is put in front;
//   - the literal special-token strings (</s>, <unk>) split the text and
//     become their ids, eating the whitespace on both sides;
//   - each other part is canonicalized (SigLIP) and encoded by SentencePiece
//     behind the unk token's string, whose pieces are then dropped (Hugging
//     Face's way to encode without the dummy prefix: pieces of unknown
//     characters right after it go too, as there);
//   - ids are truncated to MaxLen-1, </s> is appended unless already last,
//     and the rest padded.
//
// SentencePiece itself (normalization by the model's precompiled charsmap,
// user-defined symbols, Viterbi over the piece scores with unknown
// characters, byte fallback) follows the C++ library, float rounding and
// tie-breaking included. Invalid UTF-8 is first decoded as Python's
// bytes.decode("utf-8", "replace") does.
//
// A Unigram is immutable and safe for concurrent use.
type Unigram struct {
	sp     *sentencePiece
	maxLen int
	lower  bool
	canon  bool

	specials   []string // distinct special strings, in HF's all_special_tokens order
	specialIDs []int32
	firstByte  [256]bool // first bytes of the specials
	eos, pad   int32
	unk        int32
	unkToken   string
	unkLen     int          // pieces of unkToken alone (HF unk_token_length)
	hfPieces   []hfToken    // per piece id: what HF makes of its string
	hfBytes    [256]hfToken // the same for byte-fallback pieces

	scratch sync.Pool // *unigramScratch
}

// hfToken is a token as Hugging Face's tokenize() yields it, reduced to what
// the rest of the pipeline looks at.
type hfToken struct {
	id      int32
	under   bool // the token is "▁"
	special bool // the token is one of the special strings
}

type unigramScratch struct {
	text, low, chunk []byte
	parts            []textPart
	toks             []spToken
	out              []hfToken
	sp               spScratch
}

// textPart is a span of the prepared text: a special token (special >= 0,
// its index in Unigram.specials) or text to encode.
type textPart struct {
	lo, hi  int
	special int
}

// LoadUnigram reads a SentencePiece model file (spiece.model) and calls
// NewUnigram.
func LoadUnigram(path string, opts UnigramOptions) (*Unigram, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: sentencepiece model: %w", err)
	}
	if st.Size() > spMaxModelBytes {
		return nil, fmt.Errorf("%w: %s has %d bytes (max %d)", ErrBadSentencePiece, path, st.Size(), spMaxModelBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: sentencepiece model: %w", err)
	}
	t, err := NewUnigram(b, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return t, nil
}

// NewUnigram builds the tokenizer from a serialized SentencePiece ModelProto
// (the bytes of spiece.model; untrusted input: errors wrap
// ErrBadSentencePiece). model is not retained.
func NewUnigram(model []byte, opts UnigramOptions) (*Unigram, error) {
	if opts.MaxLen == 0 {
		opts.MaxLen = DefaultUnigramMaxLen
	}
	if opts.MaxLen < 2 {
		return nil, fmt.Errorf("tokenizer: unigram MaxLen %d is below 2", opts.MaxLen)
	}
	if opts.Canonicalize != "" && opts.Canonicalize != CanonicalizeSigLIP {
		return nil, fmt.Errorf("tokenizer: unigram Canonicalize %q is not %q or empty", opts.Canonicalize, CanonicalizeSigLIP)
	}
	m, err := parseSPModel(model)
	if err != nil {
		return nil, err
	}
	sp, err := newSentencePiece(m, true)
	if err != nil {
		return nil, err
	}
	t := &Unigram{sp: sp, maxLen: opts.MaxLen, lower: !opts.Cased, canon: opts.Canonicalize == CanonicalizeSigLIP}
	eos, pad, unk := opts.EOSToken, opts.PADToken, opts.UNKToken
	if eos == "" {
		eos = "</s>"
	}
	if pad == "" {
		pad = "</s>"
	}
	if unk == "" {
		unk = "<unk>"
	}
	for _, s := range []struct {
		name, tok string
		dst       *int32
	}{{"eos", eos, &t.eos}, {"unk", unk, &t.unk}, {"pad", pad, &t.pad}} {
		id, ok := sp.reserved[s.tok]
		if !ok {
			id = sp.trie.lookup([]byte(s.tok))
		}
		if id < 0 {
			return nil, fmt.Errorf("%w: %s token %q is not a piece of the model", ErrBadSentencePiece, s.name, s.tok)
		}
		*s.dst = id
		if !containsString(t.specials, s.tok) {
			t.specials = append(t.specials, s.tok)
			t.specialIDs = append(t.specialIDs, id)
			t.firstByte[s.tok[0]] = true
		}
	}
	t.unkToken = unk
	t.hfPieces = make([]hfToken, len(sp.pieces))
	for i, p := range sp.pieces {
		t.hfPieces[i] = t.hfTokenOf([]byte(p.piece))
	}
	for b := range 256 {
		if sp.byteFallback {
			t.hfBytes[b] = t.hfTokenOf([]byte(sp.pieces[sp.byteIDs[b]].piece))
		}
	}
	var sc spScratch
	t.unkLen = len(sp.encode(nil, []byte(unk), &sc))
	return t, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hfTokenOf is what Hugging Face makes of the token string s:
// convert_tokens_to_ids (added tokens, i.e. the specials, first, then
// SentencePiece's piece_to_id) and the two tests tokenize() makes.
func (t *Unigram) hfTokenOf(s []byte) hfToken {
	h := hfToken{under: string(s) == spSpace}
	for i, sp := range t.specials {
		if string(s) == sp {
			h.id, h.special = t.specialIDs[i], true
			return h
		}
	}
	if id, ok := t.sp.reserved[string(s)]; ok {
		h.id = id
	} else if id := t.sp.trie.lookup(s); id >= 0 {
		h.id = id
	} else {
		h.id = t.sp.unkID
	}
	return h
}

// MaxLen returns the length of every Encoding.
func (t *Unigram) MaxLen() int { return t.maxLen }

// VocabSize returns the number of pieces of the model.
func (t *Unigram) VocabSize() int { return len(t.sp.pieces) }

// SpecialIDs returns the ids of the eos, pad and unk tokens.
func (t *Unigram) SpecialIDs() (eos, pad, unk int64) { return int64(t.eos), int64(t.pad), int64(t.unk) }

// Encode returns the ids of text, </s>, then </s> padding up to MaxLen, as
// SiglipTokenizer(text, padding="max_length", truncation=True,
// max_length=MaxLen) does.
func (t *Unigram) Encode(text string) Encoding {
	e := Encoding{IDs: make([]int64, t.maxLen), Mask: make([]int64, t.maxLen)}
	t.encodeInto(text, e.IDs, e.Mask)
	return e
}

// EncodeBatch is EncodeBatch(t, texts).
func (t *Unigram) EncodeBatch(texts []string) (ids, mask []int64) { return EncodeBatch(t, texts) }

func (t *Unigram) encodeInto(text string, ids, mask []int64) {
	sc := t.getScratch()
	defer t.scratch.Put(sc)
	body := t.tokens(sc, text, t.maxLen)
	if len(body) > t.maxLen-1 {
		body = body[:t.maxLen-1]
	}
	n := 0
	for _, tok := range body {
		ids[n], mask[n] = int64(tok.id), 1
		n++
	}
	if n == 0 || ids[n-1] != int64(t.eos) {
		ids[n], mask[n] = int64(t.eos), 1
		n++
	}
	for ; n < len(ids); n++ {
		ids[n], mask[n] = int64(t.pad), 0
	}
}

func (t *Unigram) getScratch() *unigramScratch {
	if sc, ok := t.scratch.Get().(*unigramScratch); ok {
		return sc
	}
	return new(unigramScratch)
}

// IDs returns the token ids of text (what tokenize() then
// convert_tokens_to_ids give), without </s>, truncation or padding.
func (t *Unigram) IDs(text string) []int32 {
	sc := new(unigramScratch)
	toks := t.tokens(sc, text, -1)
	out := make([]int32, len(toks))
	for i, tok := range toks {
		out[i] = tok.id
	}
	return out
}

// Tokens returns the pieces of text as Hugging Face's tokenize() does (the
// surface of a run of unknown characters, special tokens as themselves); for
// debugging and tests.
func (t *Unigram) Tokens(text string) []string {
	var out []string
	t.walk(new(unigramScratch), text, -1, func(tok hfToken, s string) {
		out = append(out, s)
	})
	if len(out) > 1 && out[0] == spSpace && containsString(t.specials, out[1]) {
		out = out[1:]
	}
	return out
}

// tokens returns the tokens of text in sc.out; with limit >= 0 it may stop
// once it has at least limit of them.
func (t *Unigram) tokens(sc *unigramScratch, text string, limit int) []hfToken {
	sc.out = sc.out[:0]
	t.walk(sc, text, limit, nil)
	out := sc.out
	if len(out) > 1 && out[0].under && out[1].special {
		out = out[1:]
	}
	return out
}

// walk runs SiglipTokenizer.tokenize on text, appending the tokens to sc.out
// (or calling fn with each token and its string, when fn is not nil); with
// limit >= 0 it stops after the part of the text in which sc.out reaches
// limit tokens (the parts between special tokens are encoded
// independently, so the tokens so far are final).
func (t *Unigram) walk(sc *unigramScratch, text string, limit int, fn func(hfToken, string)) {
	// "▁" + text.replace("▁", " "), as valid UTF-8.
	if !utf8.ValidString(text) {
		sc.low = appendPyDecoded(sc.low[:0], text)
		text = string(sc.low)
	}
	sc.text = append(sc.text[:0], spSpace...)
	for {
		i := strings.Index(text, spSpace)
		if i < 0 {
			sc.text = append(sc.text, text...)
			break
		}
		sc.text = append(append(sc.text, text[:i]...), ' ')
		text = text[i+len(spSpace):]
	}
	s := sc.text
	if t.lower {
		sc.low = t.appendLower(sc.low[:0], s)
		s = sc.low
	}
	sc.parts = t.split(sc.parts[:0], s)
	for i, p := range sc.parts {
		if p.special < 0 {
			continue
		}
		if i+1 < len(sc.parts) && sc.parts[i+1].hi > sc.parts[i+1].lo {
			q := &sc.parts[i+1]
			q.lo = q.hi - len(pyTrimSpace(s[q.lo:q.hi], true, false))
		}
		if i > 0 && sc.parts[i-1].hi > sc.parts[i-1].lo {
			q := &sc.parts[i-1]
			q.hi = q.lo + len(pyTrimSpace(s[q.lo:q.hi], false, true))
		}
	}
	for _, p := range sc.parts {
		if limit >= 0 && len(sc.out) >= limit {
			return
		}
		if p.hi <= p.lo {
			continue
		}
		if p.special >= 0 {
			tok := hfToken{id: t.specialIDs[p.special], special: true}
			if fn != nil {
				fn(tok, t.specials[p.special])
			}
			sc.out = append(sc.out, tok)
			continue
		}
		t.encodePart(sc, s[p.lo:p.hi], fn)
	}
}

// encodePart is SiglipTokenizer._tokenize: canonicalize, encode behind the
// unk token's string and drop that string's pieces.
func (t *Unigram) encodePart(sc *unigramScratch, part []byte, fn func(hfToken, string)) {
	sc.chunk = append(sc.chunk[:0], t.unkToken...)
	if t.canon {
		sc.chunk = appendSigLIPCanonical(sc.chunk, part)
	} else {
		sc.chunk = append(sc.chunk, part...)
	}
	sc.toks = t.sp.encode(sc.toks[:0], sc.chunk, &sc.sp)
	toks := sc.toks
	if len(toks) >= t.unkLen {
		toks = toks[t.unkLen:]
	}
	norm := sc.sp.norm
	for _, tok := range toks {
		var h hfToken
		switch tok.kind {
		case spTokPiece:
			h = t.hfPieces[tok.id]
		case spTokByte:
			h = t.hfBytes[tok.b]
		default:
			h = t.hfTokenOf(norm[tok.lo:tok.hi])
		}
		if fn != nil {
			fn(h, t.sp.tokenString(tok, norm))
		}
		sc.out = append(sc.out, h)
	}
}

// appendLower appends s lower-cased as PreTrainedTokenizer.tokenize does with
// do_lower_case: the regexp (special1|special2|…)|(.+?) keeps the special
// strings and lowers every other character on its own (newlines, which "."
// does not match, are kept as they are).
func (t *Unigram) appendLower(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if t.firstByte[c] {
			if n := t.specialAt(s[i:], false); n > 0 {
				dst = append(dst, s[i:i+n]...)
				i += n
				continue
			}
		}
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		dst = appendPyLowerRune(dst, r)
		i += size
	}
	return dst
}

// specialAt returns the length of the special string at the start of s, or
// 0: the first in order (as a regexp alternation picks), or the longest (as
// Hugging Face's added-tokens trie does).
func (t *Unigram) specialAt(s []byte, longest bool) int {
	n := 0
	for _, sp := range t.specials {
		if len(sp) <= len(s) && string(s[:len(sp)]) == sp && len(sp) > n {
			n = len(sp)
			if !longest {
				break
			}
		}
	}
	return n
}

// split is the added-tokens trie's split of s: leftmost, longest matches of
// the special strings, and the text between them.
func (t *Unigram) split(parts []textPart, s []byte) []textPart {
	start := 0
	for i := 0; i < len(s); {
		if !t.firstByte[s[i]] {
			i++
			continue
		}
		n := t.specialAt(s[i:], true)
		if n == 0 {
			i++
			continue
		}
		if i > start {
			parts = append(parts, textPart{lo: start, hi: i, special: -1})
		}
		k := 0
		for j, sp := range t.specials {
			if len(sp) == n && string(s[i:i+n]) == sp {
				k = j
				break
			}
		}
		parts = append(parts, textPart{lo: i, hi: i + n, special: k})
		i += n
		start = i
	}
	if start < len(s) {
		parts = append(parts, textPart{lo: start, hi: len(s), special: -1})
	}
	return parts
}
