package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var spDir = filepath.Join("testdata", "sentencepiece")

type unigramGoldenCase struct {
	Text   string  `json:"text"`
	Hex    string  `json:"hex"`
	Repeat int     `json:"repeat"`
	IDs    []int64 `json:"ids"`
	Mask   []int64 `json:"mask"`
	// AllIDsSHA256 is the sha256 of every id of the text (no truncation),
	// in decimal, comma-separated; set for the long cases.
	AllIDsSHA256 string `json:"all_ids_sha256"`
}

// input is what the Go tokenizer is given: the raw bytes when the case has
// them (invalid UTF-8), else the text; repeated when the case says so.
func (c unigramGoldenCase) input(tb testing.TB) string {
	s := c.Text
	if c.Hex != "" {
		b, err := hex.DecodeString(c.Hex)
		if err != nil {
			tb.Fatalf("case %q: hex: %v", c.Text, err)
		}
		s = string(b)
	}
	if c.Repeat > 0 {
		s = strings.Repeat(s, c.Repeat)
	}
	return s
}

type unigramGoldenModel struct {
	Model         string              `json:"model"`
	SHA256        string              `json:"sha256"`
	Normalization string              `json:"normalization"`
	LowerCase     bool                `json:"lower_case"`
	VocabSize     int                 `json:"vocab_size"`
	EOS           int64               `json:"eos"`
	Pad           int64               `json:"pad"`
	Unk           int64               `json:"unk"`
	Cases         []unigramGoldenCase `json:"cases"`
}

type unigramGoldenFile struct {
	MaxLength int                  `json:"max_length"`
	Models    []unigramGoldenModel `json:"models"`
}

var loadUnigramGoldens = sync.OnceValues(func() (*unigramGoldenFile, error) {
	b, err := os.ReadFile(filepath.Join(spDir, "goldens.json"))
	if err != nil {
		return nil, err
	}
	var g unigramGoldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return &g, nil
})

func unigramGoldens(tb testing.TB) *unigramGoldenFile {
	tb.Helper()
	g, err := loadUnigramGoldens()
	if err != nil {
		tb.Fatalf("load sentencepiece goldens: %v", err)
	}
	return g
}

var unigramCache sync.Map // model file name + options -> *Unigram

// testUnigram loads a model of testdata/sentencepiece with SiglipTokenizer's
// settings (SigLIP canonicalization, MaxLen 64).
func testUnigram(tb testing.TB, model string, lower bool) *Unigram {
	tb.Helper()
	key := fmt.Sprint(model, lower)
	if t, ok := unigramCache.Load(key); ok {
		return t.(*Unigram)
	}
	t, err := LoadUnigram(func() string {
		if filepath.IsAbs(model) {
			return model
		}
		return filepath.Join(spDir, model)
	}(), UnigramOptions{
		MaxLen: 64, Cased: !lower, Canonicalize: CanonicalizeSigLIP})
	if err != nil {
		tb.Fatalf("load %s: %v", model, err)
	}
	unigramCache.Store(key, t)
	return t
}

// checkUnigramEncoding verifies the invariants of every Unigram Encoding:
// mask 1s then 0s, </s> last of the real tokens, padding with pad, ids in
// the vocabulary.
func checkUnigramEncoding(tb testing.TB, t *Unigram, e Encoding) {
	tb.Helper()
	eos, pad, _ := t.SpecialIDs()
	if len(e.IDs) != t.MaxLen() || len(e.Mask) != t.MaxLen() {
		tb.Fatalf("len(ids)=%d len(mask)=%d, want %d", len(e.IDs), len(e.Mask), t.MaxLen())
	}
	n := e.Len()
	for i := range e.IDs {
		if e.IDs[i] < 0 || e.IDs[i] >= int64(t.VocabSize()) {
			tb.Fatalf("ids[%d]=%d out of [0,%d)", i, e.IDs[i], t.VocabSize())
		}
		if want := int64(0); i < n && e.Mask[i] != 1 || i >= n && (e.Mask[i] != want || e.IDs[i] != pad) {
			tb.Fatalf("position %d: id %d mask %d; ids %v mask %v", i, e.IDs[i], e.Mask[i], e.IDs, e.Mask)
		}
	}
	if n < 1 || e.IDs[n-1] != eos {
		tb.Fatalf("last real token %v, want eos %d", e.IDs[:n], eos)
	}
}

func TestUnigramGoldens(t *testing.T) {
	g := unigramGoldens(t)
	if len(g.Models) < 3 {
		t.Fatalf("%d models in goldens, want 3", len(g.Models))
	}
	total := 0
	for _, m := range g.Models {
		t.Run(m.Model, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(spDir, m.Model))
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != m.SHA256 {
				t.Fatalf("sha256 of %s differs from the goldens'", m.Model)
			}
			tok := testUnigram(t, m.Model, m.LowerCase)
			eos, pad, unk := tok.SpecialIDs()
			if eos != m.EOS || pad != m.Pad || unk != m.Unk || tok.VocabSize() != m.VocabSize || tok.MaxLen() != g.MaxLength {
				t.Fatalf("eos %d pad %d unk %d vocab %d maxlen %d, want %d %d %d %d %d", eos, pad, unk, tok.VocabSize(),
					tok.MaxLen(), m.EOS, m.Pad, m.Unk, m.VocabSize, g.MaxLength)
			}
			for i, c := range m.Cases {
				total++
				text := c.input(t)
				e := tok.Encode(text)
				if !slices.Equal(e.IDs, c.IDs) || !slices.Equal(e.Mask, c.Mask) {
					t.Errorf("case %d %.200q:\n got ids %v mask %v\nwant ids %v mask %v\ntokens %q", i, text,
						e.IDs[:e.Len()], e.Len(), c.IDs[:Encoding{Mask: c.Mask}.Len()], Encoding{Mask: c.Mask}.Len(),
						tok.Tokens(text))
					continue
				}
				checkUnigramEncoding(t, tok, e)
				if c.AllIDsSHA256 != "" {
					var b strings.Builder
					for j, id := range tok.IDs(text) {
						if j > 0 {
							b.WriteByte(',')
						}
						fmt.Fprint(&b, id)
					}
					if sum := sha256.Sum256([]byte(b.String())); hex.EncodeToString(sum[:]) != c.AllIDsSHA256 {
						t.Errorf("case %d %.40q x %d: the ids past the truncation differ", i, c.Text, c.Repeat)
					}
				}
			}
		})
	}
	t.Logf("%d golden cases", total)
}

// TestUnigramIDsAndTokens checks that Encode is IDs truncated, with </s>
// appended unless last, and that Tokens and IDs agree.
func TestUnigramIDsAndTokens(t *testing.T) {
	g := unigramGoldens(t)
	for _, m := range g.Models {
		tok := testUnigram(t, m.Model, m.LowerCase)
		eos, _, _ := tok.SpecialIDs()
		for _, c := range m.Cases {
			if c.Repeat > 0 {
				continue
			}
			text := c.input(t)
			ids := tok.IDs(text)
			if toks := tok.Tokens(text); len(toks) != len(ids) {
				t.Fatalf("%s %q: %d tokens %q, %d ids", m.Model, text, len(toks), toks, len(ids))
			}
			want := make([]int64, 0, tok.MaxLen())
			for _, id := range ids[:min(len(ids), tok.MaxLen()-1)] {
				want = append(want, int64(id))
			}
			if len(want) == 0 || want[len(want)-1] != eos {
				want = append(want, eos)
			}
			if e := tok.Encode(text); !slices.Equal(e.IDs[:e.Len()], want) {
				t.Fatalf("%s %q: Encode %v, IDs give %v", m.Model, text, e.IDs[:e.Len()], want)
			}
		}
	}
}

func TestUnigramEdgeCases(t *testing.T) {
	tok := testUnigram(t, "nfkc.model", true)
	long := strings.Repeat("a photo of a cat on a mat. ", 4000) // ~100 KB
	for _, c := range []struct {
		name, text, same string
		maxOut           bool
	}{
		{name: "100 KB text", text: long, maxOut: true},
		{name: "100 KB word", text: strings.Repeat("abcdefghijklmnopqrstuvwxyz", 4000), maxOut: true},
		{name: "case", text: "A PHOTO OF A CAT", same: "a photo of a cat"},
		{name: "punctuation is dropped", text: "a, photo; of: a cat!", same: "a photo of a cat"},
		{name: "whitespace collapses", text: " a\tphoto\n\nof  a\u3000cat ", same: "a photo of a cat"},
		{name: "literal underscore block is a space", text: "a▁photo", same: "a photo"},
		{name: "upper-case special is lowered, then split", text: "a </S> cat", same: "a </s> cat"},
		{name: "invalid UTF-8 as Python decodes it", text: "caf\xe9 \xe2\x82ok", same: "caf\ufffd \ufffdok"},
		{name: "control characters", text: "a\x00b\x07c"},
		{name: "only punctuation", text: "!?...", same: " "},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := tok.Encode(c.text)
			checkUnigramEncoding(t, tok, e)
			if c.maxOut && e.Len() != tok.MaxLen() {
				t.Errorf("len %d, want truncation to %d", e.Len(), tok.MaxLen())
			}
			if c.same != "" {
				if want := tok.Encode(c.same); !slices.Equal(e.IDs, want.IDs) {
					t.Errorf("ids %v, want those of %q: %v", e.IDs[:e.Len()], c.same, want.IDs[:want.Len()])
				}
			}
		})
	}
	t.Run("repeated special tokens", func(t *testing.T) {
		e := tok.Encode(strings.Repeat("</s>", 25000))
		if e.Len() != tok.MaxLen()-1 {
			t.Errorf("len %d: 63 </s> kept, none added", e.Len())
		}
	})
}

func TestUnigramEncodeBatchConcurrent(t *testing.T) {
	g := unigramGoldens(t)
	m := g.Models[0]
	tok := testUnigram(t, m.Model, m.LowerCase)
	var texts []string
	for _, c := range m.Cases[:64] {
		texts = append(texts, c.input(t))
	}
	ids, mask := tok.EncodeBatch(texts)
	l := tok.MaxLen()
	for i, c := range m.Cases[:64] {
		if !slices.Equal(ids[i*l:(i+1)*l], c.IDs) || !slices.Equal(mask[i*l:(i+1)*l], c.Mask) {
			t.Fatalf("batch row %d (%q) differs from the golden", i, texts[i])
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				c := m.Cases[(i*7+w)%len(m.Cases)]
				if c.Repeat > 0 {
					continue
				}
				if got := tok.Encode(c.input(t)); !slices.Equal(got.IDs, c.IDs) {
					t.Errorf("%q: %v, want %v", c.Text, got.IDs, c.IDs)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkUnigram(b *testing.B) {
	tok := testUnigram(b, "nfkc.model", true)
	texts := benchCaptions()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tok.Encode(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkUnigramLong encodes a 100 KB text: SentencePiece segments all of
// it, as the reference does, before the result is truncated.
func BenchmarkUnigramLong(b *testing.B) {
	tok := testUnigram(b, "nfkc.model", true)
	text := strings.Repeat("A brown dog is running through the tall green grass near a river. ", 1500)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text)
	}
}
