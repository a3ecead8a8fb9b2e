package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// Bounds on an untrusted tokenizer.json. The files glimpse reads are far
// below them: CLIP's is 3.6 MB with 49,408 tokens, multilingual Unigram
// vocabularies have 250,000 pieces.
const (
	hfMaxJSONBytes   = 64 << 20
	hfMaxVocab       = 1 << 21
	hfMaxTokenBytes  = 4 << 10
	hfMaxID          = 1<<24 - 1
	hfMaxAddedTokens = 1 << 16
	hfMaxComponents  = 256 // normalizers, pre-tokenizers and post-processors
	hfMaxDepth       = 8   // Sequence nesting
	hfMaxLen         = 1 << 16
	hfMaxInsertBytes = 1 << 10 // a Replace content or Prepend string
	hfMaxTemplate    = 64      // pieces of a template, ids of a special token
)

// ErrBadHFJSON is wrapped by every error about a tokenizer.json that is not
// a valid tokenizers file (malformed JSON, missing fields, inconsistent
// vocabulary) or is beyond this package's size bounds.
var ErrBadHFJSON = errors.New("tokenizer: bad tokenizer.json")

// ErrUnsupportedHFJSON is wrapped by every error about a tokenizer.json
// component (normalizer, pre-tokenizer, model, post-processor, regex
// construct or setting) that this package does not implement; the error
// names it.
var ErrUnsupportedHFJSON = errors.New("tokenizer: unsupported tokenizer.json")

// HFOptions configures NewHFJSON. Encodings are what the tokenizers package
// gives for the same file after enable_truncation(max_length=MaxLen) and
// enable_padding(length=MaxLen, pad_id=the pad token's id), as immich's
// machine-learning service sets them up: the text's tokens are cut to leave
// room for the post-processor's special tokens (the end token stays last),
// and padding goes to the right with a mask of 0.
type HFOptions struct {
	// MaxLen is the length of every Encoding, special tokens included. 0
	// means the file's truncation max_length, else its fixed padding length;
	// a file with neither needs MaxLen (CLIP: 77, SigLIP: 64).
	MaxLen int
	// PadToken is the padding token (tokenizer_config.json's pad_token),
	// looked up among the added tokens and then the model's vocabulary. ""
	// means the pad_id of the file's padding section; a file without one
	// needs PadToken.
	PadToken string
}

// HF is a tokenizer read from a Hugging Face tokenizers file
// (tokenizer.json): added tokens, normalizer, pre-tokenizer, model
// (BPE, WordPiece, WordLevel or Unigram) and post-processor, each
// reproducing tokenizers 0.20 (see NewHFJSON for what is supported).
//
// Characters are classified with the Unicode tables tokenizers has (its
// crates' Unicode 8.0, 9.0, 14.0 and 16.0 data, hfunicode.go), checked
// against it for every code point; the Precompiled normalizer's grapheme
// clusters follow Unicode 15.0 (rivo/uniseg), which can differ from
// tokenizers' only around characters assigned since. Unlike tokenizers,
// Encode never fails: invalid UTF-8 is decoded as Python decodes it, and
// patterns are matched in linear time where Oniguruma may give up.
//
// An HF is immutable apart from the BPE model's lock-protected cache and is
// safe for concurrent use.
type HF struct {
	added     hfAdded
	norm      hfNormalizer   // nil: none
	pre       hfPreTokenizer // nil: none
	model     hfModel
	post      hfPost
	maxLen    int
	body      int // maxLen less the post-processor's special tokens
	pad       int32
	vocabSize int
}

var _ Tokenizer = (*HF)(nil)

// LoadHFJSON reads a tokenizer.json file and calls NewHFJSON.
func LoadHFJSON(path string, opts HFOptions) (*HF, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open tokenizer.json: %w", err)
	}
	defer f.Close()
	t, err := NewHFJSON(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return t, nil
}

// NewHFJSON builds the tokenizer of a tokenizer.json stream (untrusted
// input: errors wrap ErrBadHFJSON or ErrUnsupportedHFJSON). Supported:
//
//   - models BPE (vocab, merges as "a b" strings or [a, b] pairs,
//     continuing_subword_prefix, end_of_word_suffix, unk_token, fuse_unk,
//     byte_fallback, ignore_merges; no dropout), WordPiece, WordLevel and
//     Unigram (unk_id, byte_fallback);
//   - normalizers Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip,
//     StripAccents, Replace, Prepend, Nmt, BertNormalizer, Precompiled and
//     ByteLevel;
//   - pre-tokenizers Sequence, Split, ByteLevel, BertPreTokenizer,
//     Whitespace, WhitespaceSplit, Metaspace, Punctuation, Digits and
//     CharDelimiterSplit;
//   - post-processors TemplateProcessing (single template), BertProcessing,
//     RobertaProcessing, ByteLevel and Sequence;
//   - added tokens, matched in the text before the normalizer (normalized
//     false) or in each normalized part (normalized true), with
//     single_word, lstrip and rstrip;
//   - Split and Replace regex patterns in the Oniguruma subset hfRegexp
//     documents.
//
// Anything else is refused with an error naming it; so are settings with
// which tokenizers would fail while encoding (an unk_token missing from the
// vocabulary, a null unk_id). The decoder is ignored.
func NewHFJSON(r io.Reader, opts HFOptions) (*HF, error) {
	data, err := io.ReadAll(io.LimitReader(r, hfMaxJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: read tokenizer.json: %w", err)
	}
	if len(data) > hfMaxJSONBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBadHFJSON, hfMaxJSONBytes)
	}
	if opts.MaxLen < 0 || opts.MaxLen > hfMaxLen {
		return nil, fmt.Errorf("tokenizer: HFOptions.MaxLen %d is outside 0..%d", opts.MaxLen, hfMaxLen)
	}
	var top struct {
		Version       *string           `json:"version"`
		Truncation    json.RawMessage   `json:"truncation"`
		Padding       json.RawMessage   `json:"padding"`
		AddedTokens   []json.RawMessage `json:"added_tokens"`
		Normalizer    json.RawMessage   `json:"normalizer"`
		PreTokenizer  json.RawMessage   `json:"pre_tokenizer"`
		PostProcessor json.RawMessage   `json:"post_processor"`
		Model         json.RawMessage   `json:"model"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadHFJSON, err)
	}
	if top.Version != nil && *top.Version != "1.0" {
		return nil, fmt.Errorf("%w: version %q (want 1.0)", ErrUnsupportedHFJSON, *top.Version)
	}
	b := &hfBuilder{}
	t := &HF{}
	if t.model, err = b.parseModel(top.Model); err != nil {
		return nil, err
	}
	if t.norm, err = b.parseNormalizer(top.Normalizer, "normalizer", 0); err != nil {
		return nil, err
	}
	if t.pre, err = b.parsePreTokenizer(top.PreTokenizer, "pre_tokenizer", 0); err != nil {
		return nil, err
	}
	if t.post, err = b.parsePost(top.PostProcessor, "post_processor", 0); err != nil {
		return nil, err
	}
	if err := t.addTokens(b, top.AddedTokens); err != nil {
		return nil, err
	}
	fileLen, filePad, hasPad, err := b.parseLengths(top.Truncation, top.Padding)
	if err != nil {
		return nil, err
	}
	t.maxLen = opts.MaxLen
	if t.maxLen == 0 {
		t.maxLen = fileLen
	}
	if t.maxLen == 0 {
		return nil, errors.New("tokenizer: tokenizer.json has neither truncation nor fixed-length padding: set HFOptions.MaxLen")
	}
	added := 0
	if t.post != nil {
		added = t.post.added()
	}
	if t.maxLen < added || t.maxLen > hfMaxLen {
		return nil, fmt.Errorf("tokenizer: max length %d is outside %d..%d (the post-processor adds %d tokens)", t.maxLen, added, hfMaxLen, added)
	}
	t.body = t.maxLen - added
	switch {
	case opts.PadToken != "":
		id, ok := t.TokenID(opts.PadToken)
		if !ok {
			return nil, fmt.Errorf("tokenizer: pad token %q is not a token of tokenizer.json", opts.PadToken)
		}
		t.pad = int32(id)
	case hasPad:
		t.pad = filePad
	default:
		return nil, errors.New("tokenizer: tokenizer.json has no padding section: set HFOptions.PadToken")
	}
	maxID := max(t.model.maxID(), t.pad)
	for id := range t.added.byID {
		maxID = max(maxID, id)
	}
	if t.post != nil {
		maxID = max(maxID, t.post.maxID())
	}
	t.vocabSize = int(maxID) + 1
	return t, nil
}

// parseLengths reads the truncation max_length or, failing that, the fixed
// padding length (0 when neither), and the padding's pad_id.
func (b *hfBuilder) parseLengths(trunc, pad json.RawMessage) (maxLen int, padID int32, hasPad bool, err error) {
	if len(trunc) > 0 && string(trunc) != "null" {
		var v struct {
			MaxLength *int `json:"max_length"`
		}
		if err := json.Unmarshal(trunc, &v); err != nil || v.MaxLength == nil {
			return 0, 0, false, b.bad("truncation", "want an object with max_length")
		}
		if *v.MaxLength < 0 || *v.MaxLength > hfMaxLen {
			return 0, 0, false, b.bad("truncation", "max_length %d outside 0..%d", *v.MaxLength, hfMaxLen)
		}
		maxLen = *v.MaxLength
	}
	if len(pad) > 0 && string(pad) != "null" {
		var v struct {
			Strategy json.RawMessage `json:"strategy"`
			PadID    *int64          `json:"pad_id"`
		}
		if err := json.Unmarshal(pad, &v); err != nil || v.PadID == nil {
			return 0, 0, false, b.bad("padding", "want an object with pad_id")
		}
		if *v.PadID < 0 || *v.PadID > hfMaxID {
			return 0, 0, false, b.bad("padding", "pad_id %d outside 0..%d", *v.PadID, hfMaxID)
		}
		padID, hasPad = int32(*v.PadID), true
		var fixed struct {
			Fixed *int `json:"Fixed"`
		}
		if maxLen == 0 && json.Unmarshal(v.Strategy, &fixed) == nil && fixed.Fixed != nil && *fixed.Fixed > 0 && *fixed.Fixed <= hfMaxLen {
			maxLen = *fixed.Fixed
		}
	}
	return maxLen, padID, hasPad, nil
}

// MaxLen returns the length of every Encoding.
func (t *HF) MaxLen() int { return t.maxLen }

// VocabSize returns one more than the largest id of the model, the added
// tokens, the post-processor's tokens and the padding.
func (t *HF) VocabSize() int { return t.vocabSize }

// PadID returns the padding id.
func (t *HF) PadID() int64 { return int64(t.pad) }

// TokenID returns the id of a token string, an added token's first, as
// tokenizers' token_to_id.
func (t *HF) TokenID(token string) (int64, bool) {
	if id, ok := t.added.ids[token]; ok {
		return int64(id), true
	}
	id, ok := t.model.tokenID(token)
	return int64(id), ok
}

// Encode returns the post-processed ids of text (truncated to leave room for
// the special tokens) padded to MaxLen, as tokenizers' encode with the
// truncation and padding of HFOptions.
func (t *HF) Encode(text string) Encoding {
	e := Encoding{IDs: make([]int64, t.maxLen), Mask: make([]int64, t.maxLen)}
	t.encodeInto(text, e.IDs, e.Mask)
	return e
}

// EncodeBatch is EncodeBatch(t, texts).
func (t *HF) EncodeBatch(texts []string) (ids, mask []int64) { return EncodeBatch(t, texts) }

func (t *HF) encodeInto(text string, ids, mask []int64) {
	body := t.appendIDs(nil, text)
	if len(body) > t.body {
		body = body[:t.body]
	}
	full := body
	if t.post != nil {
		full = t.post.apply(nil, body)
	}
	n := 0
	for _, id := range full {
		ids[n], mask[n] = int64(id), 1
		n++
	}
	for ; n < len(ids); n++ {
		ids[n], mask[n] = int64(t.pad), 0
	}
}

// IDs returns the token ids of text: added tokens and model tokens, without
// the post-processor's special tokens, truncation or padding. Invalid UTF-8
// is read as Python's decode("utf-8", "replace") reads it.
func (t *HF) IDs(text string) []int32 { return t.appendIDs(nil, text) }

func (t *HF) appendIDs(dst []int32, text string) []int32 {
	if !utf8.ValidString(text) {
		text = string(appendPyDecoded(nil, text))
	}
	var pieces []hfPiece
	for _, p := range t.added.split(nil, hfPiece{text: text, first: true, id: -1}, &t.added.raw) {
		if p.id >= 0 {
			pieces = append(pieces, p)
			continue
		}
		if t.norm != nil {
			p.text, p.first = t.norm.normalize(p.text, p.first, 64*len(p.text)+4096)
		}
		pieces = t.added.split(pieces, p, &t.added.normalized)
	}
	var words []hfPiece
	for _, p := range pieces {
		if p.id >= 0 || t.pre == nil {
			words = append(words, p)
			continue
		}
		words = t.pre.split(words, p)
	}
	for _, w := range words {
		if w.id >= 0 {
			dst = append(dst, w.id)
			continue
		}
		dst = t.model.tokenize(dst, w.text)
	}
	return dst
}

// hfBuilder parses the components of one file, counting them.
type hfBuilder struct {
	components int
}

// component checks that raw is null (returning "") or an object with a
// string "type", which it returns.
func (b *hfBuilder) component(raw json.RawMessage, path string, depth int) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if depth > hfMaxDepth {
		return "", b.bad(path, "nested more than %d deep", hfMaxDepth)
	}
	b.components++
	if b.components > hfMaxComponents {
		return "", b.bad(path, "more than %d components", hfMaxComponents)
	}
	var v struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", b.bad(path, "%v", err)
	}
	if v.Type == nil {
		return "", fmt.Errorf("%w: %s has no \"type\" (files of tokenizers before 0.9 are not supported)", ErrUnsupportedHFJSON, path)
	}
	return *v.Type, nil
}

func (b *hfBuilder) fields(raw json.RawMessage, path string, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return b.bad(path, "%v", err)
	}
	return nil
}

// parseSequence reads a Sequence component: its list under key, each element parsed by parse
// one level deeper; a missing list or a null element is an error.
func parseSequence[T comparable](b *hfBuilder, raw json.RawMessage, path, key string, depth int,
	parse func(json.RawMessage, string, int) (T, error)) ([]T, error) {
	var v map[string]json.RawMessage
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if v[key] == nil || json.Unmarshal(v[key], &list) != nil || list == nil {
		return nil, b.missing(path, key)
	}
	var zero T
	out := make([]T, 0, len(list))
	for i, r := range list {
		p, err := parse(r, fmt.Sprintf("%s.%s[%d]", path, key, i), depth+1)
		if err != nil {
			return nil, err
		}
		if p == zero {
			return nil, b.bad(path, "%s[%d] is null", key, i)
		}
		out = append(out, p)
	}
	return out, nil
}

func (b *hfBuilder) bad(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadHFJSON, path, fmt.Sprintf(format, args...))
}

func (b *hfBuilder) missing(path, what string) error {
	return fmt.Errorf("%w: %s: missing %s", ErrBadHFJSON, path, what)
}

func (b *hfBuilder) unsupported(path, typ string) error {
	return fmt.Errorf("%w: %s type %q is not supported", ErrUnsupportedHFJSON, path, typ)
}

// parsePattern reads a Split or Replace pattern, {"String": s} or
// {"Regex": re}.
func (b *hfBuilder) parsePattern(raw json.RawMessage, path string) (hfPattern, error) {
	var v struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, b.bad(path, "pattern: %v", err)
	}
	switch {
	case v.String != nil && v.Regex == nil:
		if *v.String == "" {
			return nil, fmt.Errorf("%w: %s: empty String pattern", ErrUnsupportedHFJSON, path)
		}
		if len(*v.String) > hfMaxPatternBytes {
			return nil, b.bad(path, "pattern of %d bytes (max %d)", len(*v.String), hfMaxPatternBytes)
		}
		return hfLiteral(*v.String), nil
	case v.Regex != nil && v.String == nil:
		re, err := compileOnig(*v.Regex)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsupportedHFJSON, path, err)
		}
		return re, nil
	}
	return nil, b.bad(path, "pattern must be {\"String\": ...} or {\"Regex\": ...}")
}
