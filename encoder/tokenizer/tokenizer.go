package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encoding is the model input for one text. IDs and Mask both have exactly
// the tokenizer's MaxLen elements; Mask is 1 for real tokens (including the
// special start/end tokens) and 0 for padding.
type Encoding struct {
	IDs  []int64
	Mask []int64
}

// Len returns the number of real (unpadded) tokens.
func (e Encoding) Len() int {
	n := 0
	for _, m := range e.Mask {
		if m != 0 {
			n++
		}
	}
	return n
}

// Tokenizer converts text to a fixed-length Encoding. Implementations are safe
// for concurrent use.
type Tokenizer interface {
	// Encode tokenizes text, adds the special tokens, truncates to MaxLen
	// and pads. It never fails: invalid UTF-8 and control characters are
	// cleaned up, over-long input is truncated.
	Encode(text string) Encoding
	// MaxLen is the fixed length of every Encoding.
	MaxLen() int
	// VocabSize is one more than the largest id Encode can return.
	VocabSize() int
}

// encoderInto is implemented by the tokenizers of this package to encode
// directly into caller-provided rows (avoids per-text allocations in batches).
type encoderInto interface {
	encodeInto(text string, ids, mask []int64)
}

// EncodeBatch encodes texts and returns ids and mask flattened row-major as
// [len(texts), t.MaxLen()], ready to be used as int64 ONNX tensors.
func EncodeBatch(t Tokenizer, texts []string) (ids, mask []int64) {
	l := t.MaxLen()
	ids = make([]int64, len(texts)*l)
	mask = make([]int64, len(texts)*l)
	ei, direct := t.(encoderInto)
	for i, text := range texts {
		row, mrow := ids[i*l:(i+1)*l:(i+1)*l], mask[i*l:(i+1)*l:(i+1)*l]
		if direct {
			ei.encodeInto(text, row, mrow)
			continue
		}
		e := t.Encode(text)
		copy(row, e.IDs)
		copy(mrow, e.Mask)
	}
	return ids, mask
}

// fillEncoding writes start, body (already cut to fit) and end into ids,
// padding the rest with pad, and sets mask accordingly.
func fillEncoding(ids, mask []int64, start int64, body []int32, end, pad int64) {
	ids[0], mask[0] = start, 1
	n := 1
	for _, id := range body {
		ids[n], mask[n] = int64(id), 1
		n++
	}
	ids[n], mask[n] = end, 1
	n++
	for ; n < len(ids); n++ {
		ids[n], mask[n] = pad, 0
	}
}

// pyLower lower-cases s the way Python's str.lower does: like
// strings.ToLower, but with the unconditional special casing of U+0130
// (İ -> "i̇") and the context-dependent final sigma rule (Σ -> ς at the end
// of a word).
func pyLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	if !strings.ContainsRune(s, 'İ') && !strings.ContainsRune(s, 'Σ') {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if isFinalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// isFinalSigma reports whether the Σ at byte offset i of s is preceded by a
// cased letter and not followed by one, skipping case-ignorable characters
// (Unicode's Final_Sigma condition, as implemented by CPython).
func isFinalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if isCaseIgnorable(r) {
			continue
		}
		before = isCased(r)
		break
	}
	if !before {
		return false
	}
	for j := i + len("Σ"); j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		j += size
		if isCaseIgnorable(r) {
			continue
		}
		return !isCased(r)
	}
	return true
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', '\u00b7', '\u2018', '\u2019', '\u2024', '\u2027':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
