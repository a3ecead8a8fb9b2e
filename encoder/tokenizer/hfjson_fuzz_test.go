package tokenizer

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hfFuzzSeeds are small tokenizer.json files using every supported
// component.
var hfFuzzSeeds = []string{
	`{"version": "1.0", "added_tokens": [{"id": 5, "content": "<s>", "normalized": false, "special": true},
	  {"id": 6, "content": "ab", "single_word": true, "lstrip": true, "rstrip": true}],
	 "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"},
	  {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Strip", "strip_left": true, "strip_right": true}]},
	 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
	  {"type": "Split", "pattern": {"Regex": "'s|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}, "behavior": "Removed", "invert": true},
	  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]},
	 "post_processor": {"type": "RobertaProcessing", "sep": ["<s>", 5], "cls": ["<s>", 5]},
	 "padding": {"strategy": "BatchLongest", "pad_id": 0, "pad_token": "a"},
	 "model": {"type": "BPE", "unk_token": "a", "end_of_word_suffix": "</w>",
	  "vocab": {"a": 0, "b": 1, "a</w>": 2, "b</w>": 3, "ab</w>": 4, "ab": 7}, "merges": [["a", "b</w>"], ["a", "b"]]}}`,
	`{"normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
	 "pre_tokenizer": {"type": "BertPreTokenizer"},
	 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
	  {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}], "pair": [],
	  "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}},
	 "padding": {"strategy": {"Fixed": 8}, "pad_id": 0, "pad_token": "[PAD]"},
	 "model": {"type": "WordPiece", "unk_token": "[UNK]", "max_input_chars_per_word": 10,
	  "vocab": {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[UNK]": 3, "a": 4, "##b": 5, "cat": 6}}}`,
	`{"normalizer": {"type": "Sequence", "normalizers": [{"type": "Nmt"}, {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Prepend", "prepend": "_"}]},
	 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
	  {"type": "Metaspace", "replacement": "_", "prepend_scheme": "first", "split": true}, {"type": "Punctuation"}, {"type": "Digits", "individual_digits": true}]},
	 "truncation": {"max_length": 6}, "padding": {"strategy": "BatchLongest", "pad_id": 0, "pad_token": "<pad>"},
	 "post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing",
	  "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}], "pair": [],
	  "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}}]},
	 "model": {"type": "Unigram", "unk_id": 2, "byte_fallback": true,
	  "vocab": [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["_", -2], ["_a", -1.5], ["a", -3], ["b", -3.5], ["<0x41>", -9]]}}`,
	`{"pre_tokenizer": {"type": "Whitespace"}, "padding": {"strategy": "BatchLongest", "pad_id": 0, "pad_token": "?"},
	 "normalizer": {"type": "Replace", "pattern": {"String": "xx"}, "content": "y"},
	 "model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0, "y": 1}}}`,
	`{"normalizer": {"type": "Precompiled", "precompiled_charsmap": "AAAAAA=="}, "padding": {"strategy": "BatchLongest", "pad_id": 0},
	 "pre_tokenizer": {"type": "CharDelimiterSplit", "delimiter": "-"}, "model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0}}}`,
}

// FuzzLoadHFJSON feeds arbitrary tokenizer.json files and texts: NewHFJSON
// either fails with one of its errors or gives a tokenizer whose Encodings
// hold their invariants; nothing panics or hangs.
func FuzzLoadHFJSON(f *testing.F) {
	for _, s := range hfFuzzSeeds {
		f.Add([]byte(s), "A photo of a CAT <s> ab's 12 café \u00a0 猫!")
	}
	zr, err := os.Open(filepath.Join("testdata", "hfjson", "t5-identity.json.gz"))
	if err != nil {
		f.Fatal(err)
	}
	defer zr.Close()
	gz, err := gzip.NewReader(zr)
	if err != nil {
		f.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "nyc ☃ </s> <extra_id_0>")
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		tok, err := NewHFJSON(bytes.NewReader(data), HFOptions{MaxLen: 12})
		if err != nil {
			if !errors.Is(err, ErrBadHFJSON) && !errors.Is(err, ErrUnsupportedHFJSON) && !strings.Contains(err.Error(), "HFOptions") &&
				!strings.Contains(err.Error(), "max length") {
				t.Fatalf("error %v wraps neither ErrBadHFJSON nor ErrUnsupportedHFJSON", err)
			}
			return
		}
		for _, s := range []string{text, "", "a b", strings.Repeat(text, 20)} {
			e := tok.Encode(s)
			checkHFEncoding(t, tok, e)
			if ids := tok.IDs(s); len(ids) < e.Len()-(tok.MaxLen()-tok.body) {
				t.Fatalf("IDs has %d ids, the encoding %d", len(ids), e.Len())
			}
		}
	})
}

// checkHFEncoding checks the invariants of an HF Encoding: MaxLen ids in the
// vocabulary, a mask of ones then zeros, the pad id under the zeros.
func checkHFEncoding(tb testing.TB, tok *HF, e Encoding) {
	tb.Helper()
	if len(e.IDs) != tok.MaxLen() || len(e.Mask) != tok.MaxLen() {
		tb.Fatalf("lengths %d/%d, want %d", len(e.IDs), len(e.Mask), tok.MaxLen())
	}
	n := e.Len()
	for i, id := range e.IDs {
		if id < 0 || id >= int64(tok.VocabSize()) {
			tb.Fatalf("ids[%d] = %d outside [0, %d)", i, id, tok.VocabSize())
		}
		real := i < n
		if real && e.Mask[i] != 1 || !real && (e.Mask[i] != 0 || id != tok.PadID()) {
			tb.Fatalf("mask %v ids %v: want ones then zeros over pad %d", e.Mask, e.IDs, tok.PadID())
		}
	}
}
