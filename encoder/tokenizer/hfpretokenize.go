package tokenizer

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/rangetable"
)

// hfPiece is a part of the text on its way to the model: text still to
// tokenize (id < 0), or an added token found in the text (its id).
type hfPiece struct {
	text string
	// first: the piece starts at the first character of the original text
	// (as tokenizers' offsets_original().0 == 0 tells Metaspace's
	// prepend_scheme "first").
	first bool
	id    int32
}

// hfPreTokenizer is one of tokenizer.json's pre-tokenizers: it appends the
// pieces one text piece splits into (transformed, empty ones dropped) to dst.
type hfPreTokenizer interface {
	split(dst []hfPiece, p hfPiece) []hfPiece
}

// hfBehavior is a SplitDelimiterBehavior: what becomes of the matches.
type hfBehavior uint8

const (
	hfRemoved hfBehavior = iota
	hfIsolated
	hfMergedWithPrevious
	hfMergedWithNext
	hfContiguous
)

func parseBehavior(s string) (hfBehavior, bool) {
	switch s {
	case "Removed":
		return hfRemoved, true
	case "Isolated":
		return hfIsolated, true
	case "MergedWithPrevious":
		return hfMergedWithPrevious, true
	case "MergedWithNext":
		return hfMergedWithNext, true
	case "Contiguous":
		return hfContiguous, true
	}
	return 0, false
}

// hfPattern finds the successive non-overlapping matches of a Split or
// Replace pattern, until fn returns false.
type hfPattern interface {
	find(s string, fn func(start, end int) bool)
}

// hfLiteral is a "String" pattern.
type hfLiteral string

func (l hfLiteral) find(s string, fn func(start, end int) bool) {
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], string(l))
		if j < 0 || !fn(i+j, i+j+len(l)) {
			return
		}
		i += j + len(l)
	}
}

// hfCharPattern matches every character pred accepts, one match each, as
// tokenizers' Fn(char) -> bool patterns do.
type hfCharPattern func(rune) bool

func (pred hfCharPattern) find(s string, fn func(start, end int) bool) {
	for i, r := range s {
		if pred(r) && !fn(i, i+utf8.RuneLen(r)) {
			return
		}
	}
}

// hfWordRuns is the Whitespace pre-tokenizer's Rust regex \w+|[^\w\s]+.
type hfWordRuns struct{}

func (hfWordRuns) find(s string, fn func(start, end int) bool) {
	kind := func(r rune) int {
		switch {
		case unicode.Is(rustWord, r):
			return 1
		case unicode.IsSpace(r):
			return 0
		}
		return 2
	}
	start, cur := 0, 0
	for i, r := range s {
		k := kind(r)
		if k == cur {
			continue
		}
		if cur != 0 && !fn(start, i) {
			return
		}
		start, cur = i, k
	}
	if cur != 0 {
		fn(start, len(s))
	}
}

// rustWord is the Rust regex crate's Unicode \w (Alphabetic, M, Nd, Pc,
// Join_Control), with its Unicode 16.0 additions.
var rustWord = rangetable.Merge(unicode.L, unicode.Nl, unicode.Other_Alphabetic, unicode.M, unicode.Nd,
	unicode.Pc, unicode.Join_Control, rustWordNewer)

// hfSpan is a part of a piece: a match or the text between matches.
type hfSpan struct {
	start, end int
	match      bool
}

// spansOf covers s with the matches of pat and the gaps between them, as
// tokenizers' find_matches does.
func spansOf(s string, pat hfPattern) []hfSpan {
	if s == "" {
		return []hfSpan{{0, 0, false}}
	}
	var spans []hfSpan
	prev := 0
	pat.find(s, func(start, end int) bool {
		if start > prev {
			spans = append(spans, hfSpan{prev, start, false})
		}
		spans = append(spans, hfSpan{start, end, true})
		prev = end
		return true
	})
	if prev < len(s) {
		spans = append(spans, hfSpan{prev, len(s), false})
	}
	return spans
}

// splitPiece appends the parts of p that NormalizedString::split keeps
// (non-empty) to dst, text transformed by each.
func splitPiece(dst []hfPiece, p hfPiece, pat hfPattern, b hfBehavior, invert bool) []hfPiece {
	spans := spansOf(p.text, pat)
	if invert {
		for i := range spans {
			spans[i].match = !spans[i].match
		}
	}
	// After this switch, match means "remove".
	switch b {
	case hfIsolated:
		for i := range spans {
			spans[i].match = false
		}
	case hfContiguous, hfMergedWithPrevious:
		out := spans[:0:0]
		prev := false
		for _, s := range spans {
			merge := s.match == prev
			if b == hfMergedWithPrevious {
				merge = s.match && !prev
			}
			if merge && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, hfSpan{s.start, s.end, false})
			}
			prev = s.match
		}
		spans = out
	case hfMergedWithNext:
		var out []hfSpan
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prev && len(out) > 0 {
				out[len(out)-1].start = s.start
			} else {
				out = append(out, hfSpan{s.start, s.end, false})
			}
			prev = s.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		spans = out
	}
	for _, s := range spans {
		if s.match || s.end <= s.start {
			continue
		}
		dst = append(dst, hfPiece{text: p.text[s.start:s.end], first: p.first && s.start == 0, id: -1})
	}
	return dst
}

// parsePreTokenizer builds the pre-tokenizer of a tokenizer.json
// "pre_tokenizer" value (nil for JSON null).
func (b *hfBuilder) parsePreTokenizer(raw json.RawMessage, path string, depth int) (hfPreTokenizer, error) {
	typ, err := b.component(raw, path, depth)
	if err != nil || typ == "" {
		return nil, err
	}
	switch typ {
	case "Sequence":
		seq, err := parseSequence(b, raw, path, "pretokenizers", depth, b.parsePreTokenizer)
		return hfPreSequence(seq), err
	case "ByteLevel":
		var v struct {
			AddPrefixSpace *bool `json:"add_prefix_space"`
			TrimOffsets    *bool `json:"trim_offsets"`
			UseRegex       *bool `json:"use_regex"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.AddPrefixSpace == nil || v.TrimOffsets == nil {
			return nil, b.missing(path, "add_prefix_space and trim_offsets")
		}
		p := hfByteLevelPre{prefix: *v.AddPrefixSpace}
		if v.UseRegex == nil || *v.UseRegex {
			p.regex = gpt2Regexp
		}
		return p, nil
	case "Split":
		var v struct {
			Pattern  *json.RawMessage `json:"pattern"`
			Behavior *string          `json:"behavior"`
			Invert   *bool            `json:"invert"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Pattern == nil || v.Behavior == nil || v.Invert == nil {
			return nil, b.missing(path, "pattern, behavior and invert")
		}
		pat, err := b.parsePattern(*v.Pattern, path)
		if err != nil {
			return nil, err
		}
		beh, ok := parseBehavior(*v.Behavior)
		if !ok {
			return nil, b.bad(path, "unknown behavior %q", *v.Behavior)
		}
		return hfSplit{pat: pat, behavior: beh, invert: *v.Invert}, nil
	case "BertPreTokenizer":
		return hfBertPre{}, nil
	case "Whitespace":
		return hfSplit{pat: hfWordRuns{}, behavior: hfRemoved, invert: true}, nil
	case "WhitespaceSplit":
		return hfSplit{pat: hfCharPattern(unicode.IsSpace), behavior: hfRemoved}, nil
	case "Punctuation":
		var v struct {
			Behavior *string `json:"behavior"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		beh := hfIsolated
		if v.Behavior != nil {
			var ok bool
			if beh, ok = parseBehavior(*v.Behavior); !ok {
				return nil, b.bad(path, "unknown behavior %q", *v.Behavior)
			}
		}
		return hfSplit{pat: hfCharPattern(isHFPunct), behavior: beh}, nil
	case "Digits":
		var v struct {
			Individual *bool `json:"individual_digits"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Individual == nil {
			return nil, b.missing(path, "individual_digits")
		}
		beh := hfContiguous
		if *v.Individual {
			beh = hfIsolated
		}
		return hfSplit{pat: hfCharPattern(unicode.IsNumber), behavior: beh}, nil
	case "CharDelimiterSplit":
		var v struct {
			Delimiter *string `json:"delimiter"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Delimiter == nil || utf8.RuneCountInString(*v.Delimiter) != 1 {
			return nil, b.bad(path, "delimiter must be one character")
		}
		d, _ := utf8.DecodeRuneInString(*v.Delimiter)
		return hfSplit{pat: hfCharPattern(func(r rune) bool { return r == d }), behavior: hfRemoved}, nil
	case "Metaspace":
		return b.parseMetaspace(raw, path)
	}
	return nil, b.unsupported(path, typ)
}

func (b *hfBuilder) parseMetaspace(raw json.RawMessage, path string) (hfPreTokenizer, error) {
	var v struct {
		Replacement    *string `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	if v.Replacement == nil || utf8.RuneCountInString(*v.Replacement) != 1 {
		return nil, b.bad(path, "replacement must be one character")
	}
	m := hfMetaspace{rep: *v.Replacement, scheme: "always", splits: v.Split == nil || *v.Split}
	if v.PrependScheme != nil {
		switch *v.PrependScheme {
		case "always", "never", "first":
			m.scheme = *v.PrependScheme
		default:
			return nil, b.bad(path, "unknown prepend_scheme %q", *v.PrependScheme)
		}
	}
	if v.AddPrefixSpace != nil && !*v.AddPrefixSpace {
		if m.scheme != "never" { // tokenizers 0.20 refuses this too
			return nil, b.bad(path, "add_prefix_space false does not match prepend_scheme %q", m.scheme)
		}
	}
	return m, nil
}

// isHFPunct is tokenizers' is_bert_punc / is_punc: ASCII punctuation or
// Unicode 8.0 category P.
func isHFPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return isPyPunct(byte(r))
	}
	return unicode.Is(rustP8, r)
}

type hfPreSequence []hfPreTokenizer

func (q hfPreSequence) split(dst []hfPiece, p hfPiece) []hfPiece {
	cur := []hfPiece{p}
	var next []hfPiece
	for _, pre := range q {
		next = next[:0]
		for _, c := range cur {
			next = pre.split(next, c)
		}
		cur, next = next, cur
	}
	return append(dst, cur...)
}

// hfSplit is the Split pre-tokenizer, and the ones made of one split.
type hfSplit struct {
	pat      hfPattern
	behavior hfBehavior
	invert   bool
}

func (s hfSplit) split(dst []hfPiece, p hfPiece) []hfPiece {
	return splitPiece(dst, p, s.pat, s.behavior, s.invert)
}

// hfBertPre is BertPreTokenizer: whitespace removed, punctuation isolated.
type hfBertPre struct{}

func (hfBertPre) split(dst []hfPiece, p hfPiece) []hfPiece {
	var words []hfPiece
	words = splitPiece(words, p, hfCharPattern(unicode.IsSpace), hfRemoved, false)
	for _, w := range words {
		dst = splitPiece(dst, w, hfCharPattern(isHFPunct), hfIsolated, false)
	}
	return dst
}

// hfMetaspace is the Metaspace pre-tokenizer: spaces become the
// replacement, which is prepended as the scheme says, and the text is split
// before each replacement.
type hfMetaspace struct {
	rep    string
	scheme string // always, never or first
	splits bool
}

func (m hfMetaspace) split(dst []hfPiece, p hfPiece) []hfPiece {
	s := strings.ReplaceAll(p.text, " ", m.rep)
	if !strings.HasPrefix(s, m.rep) && (m.scheme == "always" || m.scheme == "first" && p.first) {
		s = m.rep + s
	}
	q := hfPiece{text: s, first: p.first, id: -1}
	if !m.splits {
		return append(dst, q)
	}
	return splitPiece(dst, q, hfLiteral(m.rep), hfMergedWithNext, false)
}

// hfByteLevelPre is the ByteLevel pre-tokenizer: a space prepended when
// asked, GPT-2's split when use_regex, then every byte as its
// bytes_to_unicode character.
type hfByteLevelPre struct {
	prefix bool
	regex  *hfRegexp
}

// gpt2Regexp is ByteLevel's split, GPT-2's pattern.
var gpt2Regexp = func() *hfRegexp {
	re, err := compileOnig(`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`)
	if err != nil {
		panic(err)
	}
	return re
}()

func (bl hfByteLevelPre) split(dst []hfPiece, p hfPiece) []hfPiece {
	if bl.prefix && !strings.HasPrefix(p.text, " ") {
		p.text = " " + p.text
	}
	start := len(dst)
	if bl.regex != nil {
		dst = splitPiece(dst, p, bl.regex, hfIsolated, false)
	} else if p.text != "" {
		dst = append(dst, p)
	}
	for i := start; i < len(dst); i++ {
		dst[i].text = byteLevelString(dst[i].text)
	}
	return dst
}
