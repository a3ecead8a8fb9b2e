package tokenizer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DefaultWordPieceMaxLen is the Encoding length used when
// WordPieceOptions.MaxLen is zero.
const DefaultWordPieceMaxLen = 40

// WordPieceOptions configures NewWordPiece. The zero value gives BERT
// uncased behaviour with DefaultWordPieceMaxLen.
type WordPieceOptions struct {
	// MaxLen is the length of every Encoding, special tokens included
	// (0 means DefaultWordPieceMaxLen; otherwise it must be at least 2).
	MaxLen int
	// Cased disables lower-casing and accent stripping (for cased
	// vocabularies); text is NFC-normalised instead.
	Cased bool
	// MaxCharsPerWord: longer words become the unknown token
	// (0 means 100).
	MaxCharsPerWord int
	// Special token strings; empty means "[CLS]", "[SEP]", "[PAD]", "[UNK]".
	CLSToken, SEPToken, PADToken, UNKToken string
	// Clean is a clean-up applied to the text first: "" (none, the default)
	// or CleanBLIPCaption.
	Clean string
}

// WordPiece is a BERT tokenizer (HuggingFace BertTokenizer: BasicTokenizer
// then greedy longest-match-first WordpieceTokenizer). Special-token strings
// occurring in the input text are treated as ordinary text (as in Google's
// reference implementation), so user input cannot inject [SEP] or [CLS].
//
// A WordPiece is immutable and safe for concurrent use.
type WordPiece struct {
	vocab   map[string]int32 // whole-word pieces
	cont    map[string]int32 // "##" continuation pieces, keyed without "##"
	inv     []string         // id -> token
	maxTok  int              // longest key in vocab, in bytes
	maxCont int              // longest key in cont, in bytes

	maxLen, maxChars   int
	cased              bool
	blip               bool // Clean is CleanBLIPCaption
	cls, sep, pad, unk int32
}

// LoadWordPiece reads a vocab.txt file and calls NewWordPiece.
func LoadWordPiece(path string, opts WordPieceOptions) (*WordPiece, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open wordpiece vocab: %w", err)
	}
	defer f.Close()
	t, err := NewWordPiece(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return t, nil
}

// NewWordPiece builds a WordPiece tokenizer from a vocab.txt stream: one token
// per line, the id of a token being its 0-based line number.
func NewWordPiece(vocab io.Reader, opts WordPieceOptions) (*WordPiece, error) {
	if opts.MaxLen == 0 {
		opts.MaxLen = DefaultWordPieceMaxLen
	}
	if opts.MaxLen < 2 {
		return nil, fmt.Errorf("tokenizer: wordpiece MaxLen %d is below 2 (room for [CLS] and [SEP])", opts.MaxLen)
	}
	if opts.MaxCharsPerWord == 0 {
		opts.MaxCharsPerWord = 100
	}
	if err := checkClean("wordpiece", opts.Clean, CleanBLIPCaption); err != nil {
		return nil, err
	}
	if opts.MaxCharsPerWord < 0 {
		return nil, fmt.Errorf("tokenizer: wordpiece MaxCharsPerWord %d is negative", opts.MaxCharsPerWord)
	}
	t := &WordPiece{
		vocab:    make(map[string]int32, 32768),
		cont:     make(map[string]int32, 8192),
		maxLen:   opts.MaxLen,
		maxChars: opts.MaxCharsPerWord,
		cased:    opts.Cased,
		blip:     opts.Clean == CleanBLIPCaption,
	}
	r := bufio.NewReaderSize(vocab, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("tokenizer: read wordpiece vocab line %d: %w", len(t.inv)+1, err)
		}
		if line == "" && err != nil {
			break
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if len(t.inv) >= 1<<31-1 {
			return nil, errors.New("tokenizer: wordpiece vocab too large")
		}
		id := int32(len(t.inv))
		t.inv = append(t.inv, line)
		t.vocab[line] = id // later duplicates win, as in HuggingFace load_vocab
		t.maxTok = max(t.maxTok, len(line))
		if rest, ok := strings.CutPrefix(line, "##"); ok {
			t.cont[rest] = id
			t.maxCont = max(t.maxCont, len(rest))
		}
		if err != nil {
			break
		}
	}
	if len(t.inv) == 0 {
		return nil, errors.New("tokenizer: wordpiece vocab is empty")
	}
	for _, s := range []struct {
		name, def string
		dst       *int32
	}{
		{opts.CLSToken, "[CLS]", &t.cls},
		{opts.SEPToken, "[SEP]", &t.sep},
		{opts.PADToken, "[PAD]", &t.pad},
		{opts.UNKToken, "[UNK]", &t.unk},
	} {
		name := s.name
		if name == "" {
			name = s.def
		}
		id, ok := t.vocab[name]
		if !ok {
			return nil, fmt.Errorf("tokenizer: special token %q not in wordpiece vocab (%d tokens)", name, len(t.inv))
		}
		*s.dst = id
	}
	return t, nil
}

// MaxLen returns the length of every Encoding.
func (t *WordPiece) MaxLen() int { return t.maxLen }

// VocabSize returns the number of lines of the vocabulary.
func (t *WordPiece) VocabSize() int { return len(t.inv) }

// SpecialIDs returns the ids of [CLS], [SEP], [PAD] and [UNK].
func (t *WordPiece) SpecialIDs() (cls, sep, pad, unk int64) {
	return int64(t.cls), int64(t.sep), int64(t.pad), int64(t.unk)
}

// Encode returns [CLS] wordpieces… [SEP] padded with [PAD] to MaxLen; when
// there are too many wordpieces the tail is dropped and [SEP] kept last.
func (t *WordPiece) Encode(text string) Encoding {
	e := Encoding{IDs: make([]int64, t.maxLen), Mask: make([]int64, t.maxLen)}
	t.encodeInto(text, e.IDs, e.Mask)
	return e
}

// EncodeBatch is EncodeBatch(t, texts).
func (t *WordPiece) EncodeBatch(texts []string) (ids, mask []int64) { return EncodeBatch(t, texts) }

func (t *WordPiece) encodeInto(text string, ids, mask []int64) {
	limit := t.maxLen - 2
	var buf [64]int32
	body := t.appendIDs(buf[:0], text, limit)
	if len(body) > limit {
		body = body[:limit]
	}
	fillEncoding(ids, mask, int64(t.cls), body, int64(t.sep), int64(t.pad))
}

// IDs returns the ids of all wordpieces of text, without special tokens and
// without truncation.
func (t *WordPiece) IDs(text string) []int32 { return t.appendIDs(nil, text, -1) }

// Tokens returns the wordpieces of text (continuations prefixed "##",
// unknown words as the unknown token), without special tokens and without
// truncation. It is meant for debugging and tests.
func (t *WordPiece) Tokens(text string) []string {
	ids := t.appendIDs(nil, text, -1)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.inv[id]
	}
	return out
}

// appendIDs runs the basic tokenizer and WordPiece over text, appending ids to
// dst. It stops early once dst holds at least limit ids (limit < 0: never).
func (t *WordPiece) appendIDs(dst []int32, text string, limit int) []int32 {
	if t.blip {
		text = blipCaption(text)
	}
	var wbuf, lbuf [128]byte
	word := wbuf[:0]
	full := func() bool { return limit >= 0 && len(dst) >= limit }
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				dst = t.appendWord(dst, word, lbuf[:0])
				word = word[:0]
			case c < 0x20 || c == 0x7f: // Cc controls (NUL, \v, \f, ...) are dropped
			default:
				word = append(word, c)
			}
		} else {
			r, size := utf8.DecodeRuneInString(text[i:])
			i += size
			switch {
			case r == utf8.RuneError || isBertControl(r): // also drops invalid UTF-8
			case unicode.IsSpace(r): // Zs, plus Zl/Zp which Python's str.split splits on
				dst = t.appendWord(dst, word, lbuf[:0])
				word = word[:0]
			case isCJK(r):
				dst = t.appendWord(dst, word, lbuf[:0])
				word = utf8.AppendRune(word[:0], r)
				dst = t.appendWord(dst, word, lbuf[:0])
				word = word[:0]
			default:
				word = utf8.AppendRune(word, r)
			}
		}
		if full() {
			return dst
		}
	}
	return t.appendWord(dst, word, lbuf[:0])
}

// appendWord normalises one whitespace-delimited word (lower-case and strip
// accents, or NFC when cased), splits it on punctuation and appends the
// wordpiece ids of each part. scratch is reusable buffer space.
func (t *WordPiece) appendWord(dst []int32, word, scratch []byte) []int32 {
	if len(word) == 0 {
		return dst
	}
	w := t.normalize(word, scratch)
	start := 0
	for i := 0; i < len(w); {
		r, size := rune(w[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(w[i:])
		}
		if isBertPunct(r) || unicode.IsSpace(r) {
			dst = t.appendPiece(dst, w[start:i])
			if !unicode.IsSpace(r) {
				dst = t.appendPiece(dst, w[i:i+size])
			}
			start = i + size
		}
		i += size
	}
	return t.appendPiece(dst, w[start:])
}

func (t *WordPiece) normalize(word, scratch []byte) []byte {
	ascii := true
	for _, c := range word {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if t.cased {
		if ascii {
			return word
		}
		return norm.NFC.Append(scratch, word...)
	}
	if ascii {
		out := scratch[:0]
		for _, c := range word {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
		}
		return out
	}
	// Python: token.lower(), then NFD and drop nonspacing marks (Mn).
	decomposed := norm.NFD.AppendString(nil, pyLower(string(word)))
	out := scratch[:0]
	for i := 0; i < len(decomposed); {
		r, size := utf8.DecodeRune(decomposed[i:])
		if !unicode.Is(unicode.Mn, r) {
			out = append(out, decomposed[i:i+size]...)
		}
		i += size
	}
	return out
}

// appendPiece runs greedy longest-match-first WordPiece on one
// punctuation-free piece.
func (t *WordPiece) appendPiece(dst []int32, piece []byte) []int32 {
	if len(piece) == 0 {
		return dst
	}
	if utf8.RuneCount(piece) > t.maxChars {
		return append(dst, t.unk)
	}
	mark := len(dst)
	for start := 0; start < len(piece); {
		table, longest := t.vocab, t.maxTok
		if start > 0 {
			table, longest = t.cont, t.maxCont
		}
		end := len(piece)
		if end-start > longest {
			end = start + longest
			for end > start && !utf8.RuneStart(piece[end]) {
				end--
			}
		}
		found := false
		for end > start {
			if id, ok := table[string(piece[start:end])]; ok {
				dst = append(dst, id)
				found = true
				break
			}
			_, size := utf8.DecodeLastRune(piece[start:end])
			end -= size
		}
		if !found {
			return append(dst[:mark], t.unk)
		}
		start = end
	}
	return dst
}

// isBertControl reports whether r is dropped by BERT's text cleaning: any
// character of general category C* (HuggingFace _is_control), including
// unassigned code points. \t, \n and \r are handled as whitespace by callers.
func isBertControl(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
	}
	if unicode.In(r, unicode.C) {
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isBertPunct is BERT's _is_punctuation: all non-letter/number ASCII symbols
// plus Unicode category P*.
func isBertPunct(r rune) bool {
	if r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126 {
		return true
	}
	return r >= utf8.RuneSelf && unicode.IsPunct(r)
}

// isCJK reports whether r is in the CJK Unified Ideographs blocks BERT
// surrounds with spaces (_is_chinese_char).
func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF ||
		r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F ||
		r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x2F800 && r <= 0x2FA1F
}
