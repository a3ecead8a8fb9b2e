package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// hfNormalizer is one of tokenizer.json's normalizers. normalize returns the
// normalized text and whether its first character still starts at the
// piece's first original character (first: it did before), which Metaspace's
// prepend_scheme "first" depends on. The output is cut at limit bytes, so
// that a chain of growing replacements stays bounded.
type hfNormalizer interface {
	normalize(s string, first bool, limit int) (string, bool)
}

// parseNormalizer builds the normalizer of a tokenizer.json "normalizer"
// value (nil for JSON null).
func (b *hfBuilder) parseNormalizer(raw json.RawMessage, path string, depth int) (hfNormalizer, error) {
	typ, err := b.component(raw, path, depth)
	if err != nil || typ == "" {
		return nil, err
	}
	switch typ {
	case "Sequence":
		seq, err := parseSequence(b, raw, path, "normalizers", depth, b.parseNormalizer)
		return hfNormSequence(seq), err
	case "NFC":
		return hfUnicodeForm{norm.NFC}, nil
	case "NFD":
		return hfUnicodeForm{norm.NFD}, nil
	case "NFKC":
		return hfUnicodeForm{norm.NFKC}, nil
	case "NFKD":
		return hfUnicodeForm{norm.NFKD}, nil
	case "Lowercase":
		return hfLowercase{}, nil
	case "Nmt":
		return hfNmt{}, nil
	case "StripAccents":
		return hfStripAccents{}, nil
	case "Strip":
		var v struct {
			Left  *bool `json:"strip_left"`
			Right *bool `json:"strip_right"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Left == nil || v.Right == nil {
			return nil, b.missing(path, "strip_left and strip_right")
		}
		return hfStrip{left: *v.Left, right: *v.Right}, nil
	case "Prepend":
		var v struct {
			Prepend *string `json:"prepend"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Prepend == nil {
			return nil, b.missing(path, "prepend")
		}
		if len(*v.Prepend) > hfMaxInsertBytes {
			return nil, b.bad(path, "prepend of %d bytes (max %d)", len(*v.Prepend), hfMaxInsertBytes)
		}
		return hfPrepend(*v.Prepend), nil
	case "Replace":
		var v struct {
			Pattern *json.RawMessage `json:"pattern"`
			Content *string          `json:"content"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Pattern == nil || v.Content == nil {
			return nil, b.missing(path, "pattern and content")
		}
		if len(*v.Content) > hfMaxInsertBytes {
			return nil, b.bad(path, "content of %d bytes (max %d)", len(*v.Content), hfMaxInsertBytes)
		}
		m, err := b.parsePattern(*v.Pattern, path)
		if err != nil {
			return nil, err
		}
		return &hfReplace{pattern: m, content: *v.Content}, nil
	case "BertNormalizer":
		var v struct {
			CleanText    *bool `json:"clean_text"`
			ChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents *bool `json:"strip_accents"`
			Lowercase    *bool `json:"lowercase"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.CleanText == nil || v.ChineseChars == nil || v.Lowercase == nil {
			return nil, b.missing(path, "clean_text, handle_chinese_chars and lowercase")
		}
		n := hfBertNormalizer{clean: *v.CleanText, chinese: *v.ChineseChars, lower: *v.Lowercase, strip: *v.Lowercase}
		if v.StripAccents != nil {
			n.strip = *v.StripAccents
		}
		return n, nil
	case "Precompiled":
		var v struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Charsmap == nil {
			return nil, b.missing(path, "precompiled_charsmap")
		}
		data, err := base64.StdEncoding.Strict().DecodeString(*v.Charsmap)
		if err != nil {
			return nil, b.bad(path, "precompiled_charsmap: %v", err)
		}
		p, err := newHFPrecompiled(data)
		if err != nil {
			return nil, b.bad(path, "precompiled_charsmap: %v", err)
		}
		return p, nil
	case "ByteLevel":
		return hfByteLevelNorm{}, nil
	}
	return nil, b.unsupported(path, typ)
}

// cut returns s cut to at most limit bytes at a character boundary.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}

type hfNormSequence []hfNormalizer

func (q hfNormSequence) normalize(s string, first bool, limit int) (string, bool) {
	for _, n := range q {
		s, first = n.normalize(s, first, limit)
	}
	return s, first
}

// hfUnicodeForm is a Unicode normalization form with the Unicode 9.0 data
// of tokenizers: the characters of hfNewerThan9 are kept as they are and
// the text between them normalized.
type hfUnicodeForm struct{ f norm.Form }

func (u hfUnicodeForm) normalize(s string, first bool, limit int) (string, bool) {
	if strings.IndexFunc(s, isNewerThan9) < 0 {
		return cut(u.f.String(s), limit), first
	}
	var b []byte
	for s != "" {
		i := strings.IndexFunc(s, isNewerThan9)
		if i < 0 {
			i = len(s)
		}
		b = u.f.AppendString(b, s[:i])
		if i == len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b = append(b, s[i:i+size]...)
		s = s[i+size:]
	}
	return cut(string(b), limit), first
}

func isNewerThan9(r rune) bool { return r >= 0x7fd && unicode.Is(hfNewerThan9, r) }

// hfLowercase is Rust's char::to_lowercase of each character (no final-sigma
// rule), which is Python's one-character lower().
type hfLowercase struct{}

func (hfLowercase) normalize(s string, first bool, limit int) (string, bool) {
	return cut(string(appendLowerRunes(nil, s)), limit), first
}

func appendLowerRunes(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = appendPyLowerRune(dst, r)
		i += size
	}
	return dst
}

// hfFilterMap keeps the characters keep accepts, replaced by repl; the first
// flag is lost when leading characters are dropped (the first kept one keeps
// its own, later, original offset).
func hfFilterMap(s string, first bool, keep func(rune) bool, repl func(rune) rune) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if !keep(r) {
			continue
		}
		if b.Len() == 0 && i > 0 {
			first = false
		}
		b.WriteRune(repl(r))
	}
	return b.String(), first
}

func sameRune(r rune) rune { return r }

// hfNmt is tokenizers' Nmt normalizer: ASCII controls removed, some
// spaces and invisible characters turned into spaces.
type hfNmt struct{}

func (hfNmt) normalize(s string, first bool, limit int) (string, bool) {
	return hfFilterMap(s, first, func(r rune) bool {
		return !(r >= 1 && r <= 8 || r == 0x0b || r >= 0x0e && r <= 0x1f || r == 0x7f || r == 0x8f || r == 0x9f)
	}, func(r rune) rune {
		switch r {
		case 0x09, 0x0a, 0x0c, 0x0d, 0x1680, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2581, 0xfeff, 0xfffd:
			return ' '
		}
		return r
	})
}

// hfStripAccents drops combining marks (general category M of Unicode 9.0).
type hfStripAccents struct{}

func (hfStripAccents) normalize(s string, first bool, limit int) (string, bool) {
	return hfFilterMap(s, first, func(r rune) bool { return !unicode.Is(rustMark9, r) }, sameRune)
}

// hfStrip removes leading and/or trailing whitespace (Rust's
// char::is_whitespace, Unicode White_Space).
type hfStrip struct{ left, right bool }

func (st hfStrip) normalize(s string, first bool, limit int) (string, bool) {
	if st.left {
		t := strings.TrimLeftFunc(s, unicode.IsSpace)
		if len(t) < len(s) && t != "" {
			first = false
		}
		s = t
	}
	if st.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s, first
}

// hfPrepend puts its string in front of non-empty text.
type hfPrepend string

func (p hfPrepend) normalize(s string, first bool, limit int) (string, bool) {
	if s == "" {
		return s, first
	}
	return cut(string(p)+s, limit), first
}

// hfReplace replaces every match of a pattern by content.
type hfReplace struct {
	pattern hfPattern
	content string
}

func (rp *hfReplace) normalize(s string, first bool, limit int) (string, bool) {
	var b strings.Builder
	last := 0
	rp.pattern.find(s, func(start, end int) bool {
		if b.Len() == 0 && last == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:start])
		b.WriteString(rp.content)
		if start == 0 {
			// The inserted characters take the original offset of the
			// last replaced one, which is the first one only when the
			// match is one character; nothing is left of it when the
			// content is empty.
			_, size := utf8.DecodeRuneInString(s)
			if end > size || rp.content == "" && end < len(s) {
				first = false
			}
		}
		last = end
		return b.Len() <= limit
	})
	if last == 0 && b.Len() == 0 {
		return s, first
	}
	if b.Len() <= limit {
		b.WriteString(s[last:])
	}
	return cut(b.String(), limit), first
}

// hfBertNormalizer is tokenizers' BertNormalizer: clean-up of control
// characters, spaces around CJK ideographs, accents stripped (NFD, then
// nonspacing marks dropped) and lower-casing, with Unicode 8.0 categories.
type hfBertNormalizer struct{ clean, chinese, strip, lower bool }

func (n hfBertNormalizer) normalize(s string, first bool, limit int) (string, bool) {
	if n.clean {
		s, first = hfFilterMap(s, first, func(r rune) bool {
			return !(r == 0 || r == 0xfffd || isRustOther(r))
		}, func(r rune) rune {
			if unicode.IsSpace(r) {
				return ' '
			}
			return r
		})
	}
	if n.chinese {
		var b strings.Builder
		b.Grow(len(s))
		for _, r := range s {
			if isHFChineseChar(r) {
				b.WriteByte(' ')
				b.WriteRune(r)
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	if n.strip {
		nfd, _ := hfUnicodeForm{norm.NFD}.normalize(s, first, limit)
		s, first = hfFilterMap(nfd, first, func(r rune) bool { return !unicode.Is(rustMn8, r) }, sameRune)
	}
	if n.lower {
		s = string(appendLowerRunes(nil, s))
	}
	return cut(s, limit), first
}

// isRustOther is BertNormalizer's is_control: categories Cc, Cf and Co of
// Unicode 8.0, except \t, \n and \r.
func isRustOther(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.Is(rustOther8, r)
}

// isHFChineseChar is tokenizers' is_chinese_char (its range of CJK Extension
// E differs from BERT's Python one).
func isHFChineseChar(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF ||
		r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F ||
		r >= 0x2B920 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x2F800 && r <= 0x2FA1F
}

// hfPrecompiled is the Precompiled normalizer: SentencePiece's compiled
// normalization rules applied as the spm_precompiled crate applies them,
// which is not as SentencePiece does: each extended grapheme cluster shorter
// than 6 bytes is replaced whole by the replacement of the shortest rule
// matching its start; other clusters, and clusters no rule matches, are
// replaced character by character.
type hfPrecompiled struct {
	units []uint32
	blob  string
}

func newHFPrecompiled(b []byte) (*hfPrecompiled, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%d bytes is too short", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, fmt.Errorf("trie size %d exceeds the %d bytes", n, len(b))
	}
	units := make([]uint32, n/4)
	for i := range units {
		units[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	blob := b[4+4*(n/4):]
	if !utf8.Valid(blob) {
		return nil, fmt.Errorf("normalized strings are not valid UTF-8")
	}
	if len(units) == 0 {
		return nil, fmt.Errorf("empty trie")
	}
	return &hfPrecompiled{units: units, blob: string(blob)}, nil
}

// transform returns the replacement of the shortest rule whose key is a
// prefix of chunk (spm_precompiled's common_prefix_search, results[0]).
func (p *hfPrecompiled) transform(chunk string) (string, bool) {
	u := p.units
	node := uint64(unitOffset(u[0]))
	for i := 0; i < len(chunk); i++ {
		c := chunk[i]
		if c == 0 {
			break
		}
		node ^= uint64(c)
		if node >= uint64(len(u)) {
			return "", false
		}
		unit := u[node]
		if unit&(1<<31|0xFF) != uint32(c) {
			return "", false
		}
		node ^= uint64(unitOffset(unit))
		if unit>>8&1 == 1 {
			if node >= uint64(len(u)) {
				return "", false
			}
			idx := int(u[node] & (1<<31 - 1))
			if idx > len(p.blob) {
				return "", false
			}
			end := strings.IndexByte(p.blob[idx:], 0)
			if end < 0 {
				end = len(p.blob) - idx
			}
			r := p.blob[idx : idx+end]
			if !utf8.ValidString(r) { // a rule pointing inside a character
				return "", false
			}
			return r, true
		}
	}
	return "", false
}

func (p *hfPrecompiled) normalize(s string, first bool, limit int) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	state := -1
	for rest := s; rest != "" && b.Len() <= limit; {
		var g string
		g, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if len(g) < 6 {
			if r, ok := p.transform(g); ok {
				b.WriteString(r)
				continue
			}
		}
		for i, r := range g {
			part := g[i : i+utf8.RuneLen(r)]
			if repl, ok := p.transform(part); ok {
				b.WriteString(repl)
			} else {
				b.WriteString(part)
			}
		}
	}
	return cut(b.String(), limit), first
}

// hfByteLevelNorm is the ByteLevel normalizer: every byte as its
// bytes_to_unicode character.
type hfByteLevelNorm struct{}

func (hfByteLevelNorm) normalize(s string, first bool, limit int) (string, bool) {
	return cut(byteLevelString(s), limit), first
}

var byteLevelSyms = func() (sym [256]rune) {
	_, sym = bytesToUnicode()
	return sym
}()

// byteLevelString maps every byte of s to its bytes_to_unicode character.
func byteLevelString(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, byteLevelSyms[s[i]])
	}
	return string(b)
}
