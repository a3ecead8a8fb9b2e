package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Python string operations that Hugging Face's slow tokenizers apply, on
// UTF-8 bytes.

// appendPyDecoded appends s to dst with every maximal ill-formed subsequence
// replaced by one U+FFFD, as Python's bytes.decode("utf-8", "replace") does
// (Unicode's "maximal subpart" practice: b"\xe2\x82" is one U+FFFD, where Go's
// range loop would give two).
func appendPyDecoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
			dst = append(dst, s[i:i+size]...)
			i += size
			continue
		}
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c == 0xED:
			need, hi = 2, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			need = 2
		case c == 0xF0:
			need, lo = 3, 0x90
		case c == 0xF4:
			need, hi = 3, 0x8F
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		}
		n := 1
		for ; n <= need && i+n < len(s); n++ {
			if b := s[i+n]; b < lo || b > hi {
				break
			}
			lo, hi = 0x80, 0xBF
		}
		dst = append(dst, "\uFFFD"...)
		i += n
	}
	return dst
}

// appendPyLowerRune appends Python's str.lower() of the one-character string
// r: Unicode's simple lower-case mapping, except for U+0130 (İ), whose full
// mapping is "i̇". Checked against CPython 3.11 for every code point. (On a
// whole string Python also applies the final-sigma rule; Hugging Face lowers
// one character at a time, so Σ always becomes σ.)
func appendPyLowerRune(dst []byte, r rune) []byte {
	if r == 'İ' {
		return append(dst, "i\u0307"...)
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

// isPyPunct reports whether c is in Python's string.punctuation.
func isPyPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// appendSigLIPCanonical appends SigLIP's canonicalize_text of s (valid
// UTF-8): string.punctuation removed, then runs of whitespace (Python's \s)
// collapsed to one space, then stripped.
func appendSigLIPCanonical(dst, s []byte) []byte {
	start := len(dst)
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			if isPyPunct(c) {
				i++
				continue
			}
			r = rune(c)
		} else {
			r, size = utf8.DecodeRune(s[i:])
		}
		if isPySpace(r) {
			space = true
			i += size
			continue
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, s[i:i+size]...)
		i += size
	}
	return dst
}

// pyTrimSpace returns s without leading (left) and trailing (right) Python
// whitespace, as str.lstrip() and str.rstrip() do.
func pyTrimSpace(s []byte, left, right bool) []byte {
	for left && len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if !isPySpace(r) {
			break
		}
		s = s[size:]
	}
	for right && len(s) > 0 {
		r, size := utf8.DecodeLastRune(s)
		if !isPySpace(r) {
			break
		}
		s = s[:len(s)-size]
	}
	return s
}
