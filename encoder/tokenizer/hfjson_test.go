package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// envHFCases names the folder of tokenizer.json files and expected ids
// that tools/tests/test_hf_tokenizer.py writes with the tokenizers package
// before it runs TestHFJSONUpstream.
const envHFCases = "GLIMPSE_HF_TOKENIZER_CASES"

// hfCaseFile is cases.json of test_hf_tokenizer.py and testdata/hfjson/goldens.json.
type hfCaseFile struct {
	Tokenizers []struct {
		Name     string `json:"name"`
		File     string `json:"file"`
		MaxLen   int    `json:"max_len"`
		PadToken string `json:"pad_token"`
		Cases    []struct {
			Text string  `json:"text"`
			IDs  []int64 `json:"ids"`
			Mask []int64 `json:"mask"`
		} `json:"cases"`
	} `json:"tokenizers"`
}

func readHFCases(t *testing.T, dir, name string) *hfCaseFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var f hfCaseFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &f
}

// loadHFFile loads a tokenizer.json, gzip-compressed when its name ends in .gz.
func loadHFFile(t testing.TB, path string, opts HFOptions) *HF {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	tok, err := NewHFJSON(r, opts)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tok
}

// checkHFCases encodes every case with its tokenizer and reports, per
// tokenizer, how many texts give tokenizers' ids and mask.
func checkHFCases(t *testing.T, dir string, f *hfCaseFile) {
	for _, tc := range f.Tokenizers {
		t.Run(tc.Name, func(t *testing.T) {
			tok := loadHFFile(t, filepath.Join(dir, tc.File), HFOptions{MaxLen: tc.MaxLen, PadToken: tc.PadToken})
			ok, shown := 0, 0
			for _, c := range tc.Cases {
				e := tok.Encode(c.Text)
				if slices.Equal(e.IDs, c.IDs) && slices.Equal(e.Mask, c.Mask) {
					ok++
					continue
				}
				if shown++; shown <= 10 {
					t.Errorf("mismatch for %q:\n got ids %v mask %v\nwant ids %v mask %v", c.Text, e.IDs, e.Mask, c.IDs, c.Mask)
				}
			}
			t.Logf("hfjson upstream: %s: %d/%d texts match", tc.Name, ok, len(tc.Cases))
		})
	}
}

// TestHFJSONUpstream reproduces the ids of the tokenizers package for the
// tokenizer.json files and texts tools/tests/test_hf_tokenizer.py writes;
// that Python test runs it (it skips when run alone, like a child process:
// the cases exist only while the Python test runs).
func TestHFJSONUpstream(t *testing.T) {
	dir := os.Getenv(envHFCases)
	if dir == "" {
		t.Skipf("%s not set: tools/tests/test_hf_tokenizer.py runs this test with the cases it makes with the tokenizers package "+
			"(PYTHONPATH=tools python -m unittest tests.test_hf_tokenizer)", envHFCases)
	}
	checkHFCases(t, dir, readHFCases(t, dir, "cases.json"))
	checkRegexCases(t, filepath.Join(dir, "regex.json"))
}

// TestHFJSONGoldens checks the committed goldens of small tokenizer.json
// files (written by test_hf_tokenizer.py --write-goldens from tokenizers
// 0.20.3).
func TestHFJSONGoldens(t *testing.T) {
	dir := filepath.Join("testdata", "hfjson")
	checkHFCases(t, dir, readHFCases(t, dir, "goldens.json"))
	checkRegexCases(t, filepath.Join(dir, "regex.json"))
}

// checkRegexCases checks hfRegexp against Oniguruma's matches (through
// tokenizers' Split) on random patterns and texts; patterns it refuses are
// counted by reason.
func checkRegexCases(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Pattern string `json:"pattern"`
		Texts   []struct {
			Text    string   `json:"text"`
			Matches []string `json:"matches"`
			Gaps    []string `json:"gaps"`
		} `json:"texts"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	refused := map[string]int{}
	ok, total := 0, 0
	for _, c := range cases {
		re, err := compileOnig(c.Pattern)
		if err != nil {
			reason := err.Error()
			if i := strings.LastIndex(reason, ": "); i >= 0 {
				reason = reason[i+2:]
			}
			refused[reason]++
			continue
		}
		for _, tc := range c.Texts {
			total++
			var matches, gaps []string
			for _, p := range splitPiece(nil, hfPiece{text: tc.Text, id: -1}, re, hfRemoved, true) {
				matches = append(matches, p.text)
			}
			for _, p := range splitPiece(nil, hfPiece{text: tc.Text, id: -1}, re, hfRemoved, false) {
				gaps = append(gaps, p.text)
			}
			if slices.Equal(matches, tc.Matches) && slices.Equal(gaps, tc.Gaps) {
				ok++
			} else if total-ok <= 10 {
				t.Errorf("regex %q on %q: matches %q gaps %q, Oniguruma %q %q", c.Pattern, tc.Text, matches, gaps, tc.Matches, tc.Gaps)
			}
		}
	}
	t.Logf("hfjson upstream: regex: %d/%d texts match (%d patterns, refused: %v)", ok, total, len(cases), refused)
	if total < len(cases) { // most patterns must compile
		t.Errorf("only %d texts of %d patterns compared", total, len(cases))
	}
}

// clipHFJSON writes the tokenizer.json Hugging Face's CLIPTokenizerFast
// makes from OpenAI's merges, as tools/tests/test_hf_tokenizer.py does.
func clipHFJSON(tb testing.TB) []byte {
	tb.Helper()
	f, err := os.Open(bpePath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")[1 : CLIPNumMerges+1]
	order, sym := bytesToUnicode()
	var vocab []string
	for _, c := range order {
		vocab = append(vocab, string(sym[c]))
	}
	for _, c := range order {
		vocab = append(vocab, string(sym[c])+"</w>")
	}
	for _, l := range lines {
		vocab = append(vocab, strings.Replace(l, " ", "", 1))
	}
	vocab = append(vocab, "<|startoftext|>", "<|endoftext|>")
	v := make(map[string]int, len(vocab))
	for i, s := range vocab {
		v[s] = i
	}
	doc := map[string]any{
		"version": "1.0",
		"added_tokens": []any{
			map[string]any{"id": 49406, "content": "<|startoftext|>", "normalized": true, "special": true},
			map[string]any{"id": 49407, "content": "<|endoftext|>", "normalized": true, "special": true},
		},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "NFC"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": `\s+`}, "content": " "},
			map[string]any{"type": "Lowercase"},
		}},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`},
				"behavior": "Removed", "invert": true},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		}},
		"post_processor": map[string]any{"type": "RobertaProcessing", "sep": []any{"<|endoftext|>", 49407},
			"cls": []any{"<|startoftext|>", 49406}, "trim_offsets": false, "add_prefix_space": false},
		"model": map[string]any{"type": "BPE", "unk_token": "<|endoftext|>", "continuing_subword_prefix": "",
			"end_of_word_suffix": "</w>", "vocab": v, "merges": lines},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestHFJSONMatchesBPE checks that the Hugging Face CLIP tokenizer.json
// gives the ids of the BPE tokenizer with the Hugging Face clean-up, on the
// goldens' texts (Σ aside: the fast tokenizer lowers one character at a
// time, the slow one applies the final-sigma rule).
func TestHFJSONMatchesBPE(t *testing.T) {
	hf, err := NewHFJSON(strings.NewReader(string(clipHFJSON(t))), HFOptions{MaxLen: 77, PadToken: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	bpe, err := LoadBPE(bpePath, BPEOptions{Clean: CleanHF, Pad: 49407})
	if err != nil {
		t.Fatal(err)
	}
	if hf.VocabSize() != bpe.VocabSize() || hf.PadID() != 49407 {
		t.Fatalf("vocab %d pad %d, want %d 49407", hf.VocabSize(), hf.PadID(), bpe.VocabSize())
	}
	texts := []string{"", "a photo of a cat", strings.Repeat("word ", 100), "it's 12 dogs!!", "ÉCOLE  café\t東京"}
	for _, c := range goldens(t).CLIP.Cases {
		if !strings.ContainsAny(c.Text, "Σ<") { // "<|endoftext|>" is an added token in tokenizer.json, text for BPE
			texts = append(texts, c.Text)
		}
	}
	for _, text := range texts {
		if got, want := hf.Encode(text), bpe.Encode(text); !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Mask, want.Mask) {
			t.Errorf("%q: ids %v, BPE gives %v", text, got.IDs, want.IDs)
		}
	}
}

func TestHFJSONOptions(t *testing.T) {
	const tiny = `{"version": "1.0", %s "added_tokens": [{"id": 4, "content": "[X]", "normalized": false}],
		"post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}},
			{"SpecialToken": {"id": "[X]", "type_id": 0}}], "pair": [],
			"special_tokens": {"[X]": {"id": "[X]", "ids": [4], "tokens": ["[X]"]}}},
		"pre_tokenizer": {"type": "WhitespaceSplit"},
		"model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0, "a": 1, "b": 2, "pad": 3}}}`
	tests := []struct {
		name     string
		settings string
		opts     HFOptions
		text     string
		wantIDs  []int64
		wantMask []int64
		wantErr  string
	}{
		{name: "length and pad from options", opts: HFOptions{MaxLen: 4, PadToken: "pad"}, text: "a b",
			wantIDs: []int64{1, 2, 4, 3}, wantMask: []int64{1, 1, 1, 0}},
		{name: "truncation keeps the template's token", opts: HFOptions{MaxLen: 3, PadToken: "pad"}, text: "a b a z",
			wantIDs: []int64{1, 2, 4}, wantMask: []int64{1, 1, 1}},
		{name: "added token in the text", opts: HFOptions{MaxLen: 5, PadToken: "[X]"}, text: "a[X]b",
			wantIDs: []int64{1, 4, 2, 4, 4}, wantMask: []int64{1, 1, 1, 1, 0}},
		{name: "length from truncation, pad from padding",
			settings: `"truncation": {"max_length": 3, "strategy": "LongestFirst", "stride": 0, "direction": "Right"},
				"padding": {"strategy": "BatchLongest", "direction": "Right", "pad_id": 3, "pad_type_id": 0, "pad_token": "pad"},`,
			text: "", wantIDs: []int64{4, 3, 3}, wantMask: []int64{1, 0, 0}},
		{name: "length from fixed padding",
			settings: `"padding": {"strategy": {"Fixed": 2}, "direction": "Right", "pad_id": 0, "pad_type_id": 0, "pad_token": "?"},`,
			text:     "b b", wantIDs: []int64{2, 4}, wantMask: []int64{1, 1}},
		{name: "no length", opts: HFOptions{PadToken: "pad"}, wantErr: "set HFOptions.MaxLen"},
		{name: "no pad", opts: HFOptions{MaxLen: 4}, wantErr: "set HFOptions.PadToken"},
		{name: "unknown pad", opts: HFOptions{MaxLen: 4, PadToken: "nope"}, wantErr: `pad token "nope"`},
		{name: "zero truncation length", opts: HFOptions{MaxLen: 0, PadToken: "pad"},
			settings: `"truncation": {"max_length": 0},`, wantErr: "set HFOptions.MaxLen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := NewHFJSON(strings.NewReader(fmt.Sprintf(tiny, tt.settings)), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := tok.Encode(tt.text)
			if !slices.Equal(e.IDs, tt.wantIDs) || !slices.Equal(e.Mask, tt.wantMask) {
				t.Errorf("ids %v mask %v, want %v %v", e.IDs, e.Mask, tt.wantIDs, tt.wantMask)
			}
			if tok.VocabSize() != 5 {
				t.Errorf("VocabSize %d, want 5", tok.VocabSize())
			}
		})
	}
}

// TestHFJSONRefusals checks that what is not implemented is an error
// naming it.
func TestHFJSONRefusals(t *testing.T) {
	const model = `"model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0}}`
	tests := []struct {
		name, json string
		want       error
		wantText   string
	}{
		{"not JSON", `{`, ErrBadHFJSON, "unexpected end"},
		{"no model", `{"version": "1.0"}`, ErrBadHFJSON, "model: missing"},
		{"version", `{"version": "2.0", ` + model + `}`, ErrUnsupportedHFJSON, `version "2.0"`},
		{"model type", `{"model": {"type": "Magic"}}`, ErrUnsupportedHFJSON, `model type "Magic"`},
		{"untyped model", `{"model": {"vocab": {}}}`, ErrUnsupportedHFJSON, `has no "type"`},
		{"normalizer", `{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Foo"}]}, ` + model + `}`,
			ErrUnsupportedHFJSON, `normalizer.normalizers[1] type "Foo"`},
		{"pre-tokenizer", `{"pre_tokenizer": {"type": "UnicodeScripts"}, ` + model + `}`, ErrUnsupportedHFJSON, `pre_tokenizer type "UnicodeScripts"`},
		{"post-processor", `{"post_processor": {"type": "Magic"}, ` + model + `}`, ErrUnsupportedHFJSON, `post_processor type "Magic"`},
		{"lookbehind", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated", "invert": false}, ` + model + `}`,
			ErrUnsupportedHFJSON, "lookbehind"},
		{"empty match", `{"normalizer": {"type": "Replace", "pattern": {"Regex": "a*"}, "content": ""}, ` + model + `}`,
			ErrUnsupportedHFJSON, "matching the empty string"},
		{"dropout", `{"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}}`, ErrUnsupportedHFJSON, "dropout"},
		{"unk_id null", `{"model": {"type": "Unigram", "unk_id": null, "vocab": [["a", -1]]}}`, ErrUnsupportedHFJSON, "unk_id null"},
		{"missing unk", `{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`, ErrBadHFJSON, `unk_token "[UNK]" is not in the vocab`},
		{"merge not in vocab", `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}`, ErrBadHFJSON, `"ab" is not in the vocab`},
		{"bad merge", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}`, ErrBadHFJSON, "not two tokens"},
		{"mixed merges", `{"model": {"type": "BPE", "vocab": {"a": 0, "aa": 1}, "merges": ["a a", ["a", "a"]]}}`, ErrBadHFJSON, "all merges"},
		{"bad base64", `{"normalizer": {"type": "Precompiled", "precompiled_charsmap": "@@"}, ` + model + `}`, ErrBadHFJSON, "precompiled_charsmap"},
		{"metaspace mismatch", `{"pre_tokenizer": {"type": "Metaspace", "replacement": "_", "add_prefix_space": false}, ` + model + `}`,
			ErrBadHFJSON, "add_prefix_space false"},
		{"template B", `{"post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "B", "type_id": 0}}], "special_tokens": {}}, ` + model + `}`,
			ErrUnsupportedHFJSON, `sequence "B"`},
		{"template token", `{"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}], "special_tokens": {}}, ` + model + `}`,
			ErrBadHFJSON, `"[X]"`},
		{"deep", `{"normalizer": ` + strings.Repeat(`{"type": "Sequence", "normalizers": [`, 12) + strings.Repeat(`]}`, 12) + `, ` + model + `}`,
			ErrBadHFJSON, "nested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHFJSON(strings.NewReader(tt.json), HFOptions{MaxLen: 8, PadToken: "?"})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err %v, want %v containing %q", err, tt.want, tt.wantText)
			}
		})
	}
}

// BenchmarkHFJSONEncode encodes a query with the CLIP tokenizer.json, beside
// the BPE tokenizer it matches.
func BenchmarkHFJSONEncode(b *testing.B) {
	hf, err := NewHFJSON(strings.NewReader(string(clipHFJSON(b))), HFOptions{MaxLen: 77, PadToken: "<|endoftext|>"})
	if err != nil {
		b.Fatal(err)
	}
	bpe := testBPE(b)
	const text = "A Smiling ASTRONAUT in a white spacesuit, an American flag behind her! café 東京"
	for _, c := range []struct {
		name string
		tok  Tokenizer
	}{{"hf", hf}, {"bpe", bpe}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.tok.Encode(text)
			}
		})
	}
}

// TestHFJSONConcurrent encodes from several goroutines at once (the BPE
// cache and the regex machines are shared): every result is the serial one.
func TestHFJSONConcurrent(t *testing.T) {
	dir := filepath.Join("testdata", "hfjson")
	f := readHFCases(t, dir, "goldens.json")
	for _, tc := range f.Tokenizers[:3] {
		tok := loadHFFile(t, filepath.Join(dir, tc.File), HFOptions{MaxLen: tc.MaxLen, PadToken: tc.PadToken})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 40 {
					c := tc.Cases[(i+w)%len(tc.Cases)]
					if e := tok.Encode(c.Text); !slices.Equal(e.IDs, c.IDs) {
						t.Errorf("%s %q: %v, want %v", tc.Name, c.Text, e.IDs, c.IDs)
					}
				}
			})
		}
		wg.Wait()
	}
}
