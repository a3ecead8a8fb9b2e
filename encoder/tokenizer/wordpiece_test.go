package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

func TestWordPieceGoldens(t *testing.T) {
	g := goldens(t)
	tok := testWordPiece(t)
	cls, sep, pad, unk := tok.SpecialIDs()
	if cls != g.Bert.CLS || sep != g.Bert.SEP || pad != g.Bert.PAD || unk != g.Bert.UNK {
		t.Fatalf("special ids %d %d %d %d, want %d %d %d %d", cls, sep, pad, unk, g.Bert.CLS, g.Bert.SEP, g.Bert.PAD, g.Bert.UNK)
	}
	for i, c := range g.Bert.Cases {
		t.Run(caseName(i, c.Text), func(t *testing.T) {
			e := tok.Encode(c.Text)
			checkEncoding(t, e, tok.MaxLen(), tok.VocabSize(), cls, sep, pad)
			if got := e.IDs[:e.Len()]; !slices.Equal(got, c.IDs) {
				t.Errorf("ids = %v, want %v", got, c.IDs)
			}
			if got := tok.Tokens(c.Text); !slices.Equal(got, c.Pieces) && !(len(got) == 0 && len(c.Pieces) == 0) {
				t.Errorf("pieces = %q, want %q", got, c.Pieces)
			}
		})
	}
}

func caseName(i int, text string) string {
	r := []rune(text)
	if len(r) > 24 {
		r = r[:24]
	}
	return strings.Join([]string{itoa(i), string(r)}, "_")
}

func itoa(i int) string {
	if i < 10 {
		return "0" + string(rune('0'+i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}

func TestWordPieceEdgeCases(t *testing.T) {
	tok := testWordPiece(t)
	long := strings.Repeat("a photo of a cat on a mat. ", 4000) // ~100 KB
	for _, c := range []struct {
		name   string
		text   string
		want   []string // expected pieces; nil = compare with same
		same   string   // text expected to tokenize identically
		maxOut bool     // expect the encoding to be full (truncated)
	}{
		{name: "empty", text: "", want: []string{}},
		{name: "only whitespace", text: " \t\n\r\u00a0\u3000 ", want: []string{}},
		{name: "only punctuation", text: "!?...,;", want: []string{"!", "?", ".", ".", ".", ",", ";"}},
		{name: "accents", text: "Café Déjà vu", want: []string{"cafe", "de", "##ja", "vu"}},
		{name: "combining accents", text: "Cafe\u0301", want: []string{"cafe"}},
		{name: "CJK ideographs split", text: "世世", want: []string{"世", "世"}},
		{name: "CJK in a word", text: "ab世cd", same: "ab 世 cd"},
		{name: "emoji", text: "I ❤ pizza 🍕", want: []string{"i", "[UNK]", "pizza", "[UNK]"}},
		{name: "control chars dropped", text: "a\x00b\x07c\u200bd\ufffde\x7f", same: "abcde"},
		{name: "vertical tab dropped not space", text: "ab\vcd", same: "abcd"},
		{name: "line separator splits", text: "hello\u2028world", same: "hello world"},
		{name: "100 KB string", text: long, maxOut: true},
		{name: "150-char word", text: strings.Repeat("x", 150), want: []string{"[UNK]"}},
		{name: "101-char word", text: strings.Repeat("a", 101), want: []string{"[UNK]"}},
		{name: "invalid UTF-8", text: "caf\xe9 ok\xff\xfe", same: "caf ok"},
		{name: "special token text is not special", text: "[SEP]", want: []string{"[", "sep", "]"}},
		{name: "dotted capital I", text: "İstanbul", same: "istanbul"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := tok.Encode(c.text)
			checkEncoding(t, e, tok.MaxLen(), tok.VocabSize(), int64(tok.cls), int64(tok.sep), int64(tok.pad))
			got := tok.Tokens(c.text)
			switch {
			case c.want != nil:
				if !slices.Equal(got, c.want) {
					t.Errorf("pieces = %q, want %q", got, c.want)
				}
			case c.same != "":
				if want := tok.Tokens(c.same); !slices.Equal(got, want) {
					t.Errorf("pieces = %q, want those of %q: %q", got, c.same, want)
				}
			}
			if c.maxOut && e.Len() != tok.MaxLen() {
				t.Errorf("len = %d, want truncation to %d", e.Len(), tok.MaxLen())
			}
			if !c.maxOut && len(got)+2 <= tok.MaxLen() && e.Len() != len(got)+2 {
				t.Errorf("encoding has %d tokens, want %d", e.Len(), len(got)+2)
			}
		})
	}
	t.Run("101-char word is not unk at limit 200", func(t *testing.T) {
		tok2, err := LoadWordPiece(wordPiecePath, WordPieceOptions{MaxCharsPerWord: 200})
		if err != nil {
			t.Fatal(err)
		}
		if got := tok2.Tokens(strings.Repeat("a", 101)); slices.Contains(got, "[UNK]") {
			t.Errorf("pieces = %q", got)
		}
	})
	t.Run("truncation prefix", func(t *testing.T) {
		ids := tok.IDs(long)
		e := tok.Encode(long)
		for i := 1; i < tok.MaxLen()-1; i++ {
			if e.IDs[i] != int64(ids[i-1]) {
				t.Fatalf("ids[%d] = %d, want %d", i, e.IDs[i], ids[i-1])
			}
		}
	})
}

func TestNewWordPieceErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		vocab string
		opts  WordPieceOptions
		want  string
	}{
		{"empty vocab", "", WordPieceOptions{}, "empty"},
		{"missing special", "[CLS]\n[SEP]\n[PAD]\n", WordPieceOptions{}, `"[UNK]"`},
		{"max len too small", "[CLS]\n", WordPieceOptions{MaxLen: 1}, "MaxLen"},
		{"negative max chars", "[CLS]\n", WordPieceOptions{MaxCharsPerWord: -1}, "MaxCharsPerWord"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewWordPiece(strings.NewReader(c.vocab), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %s", err, c.want)
			}
		})
	}
	if _, err := LoadWordPiece("testdata/missing.txt", WordPieceOptions{}); err == nil {
		t.Error("LoadWordPiece of a missing file: no error")
	}
}

func TestWordPieceCustomVocab(t *testing.T) {
	vocab := "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nrunning\r\n"
	tok, err := NewWordPiece(strings.NewReader(vocab), WordPieceOptions{MaxLen: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, text string
		ids        []int64
		mask       []int64
	}{
		{"pieces", "unaffable", []int64{2, 4, 5, 3}, []int64{1, 1, 1, 1}},
		{"CRLF vocab line", "running", []int64{2, 7, 3, 0}, []int64{1, 1, 1, 0}},
		{"unknown", "xyz", []int64{2, 1, 3, 0}, []int64{1, 1, 1, 0}},
		{"truncated keeps SEP", "running running running", []int64{2, 7, 7, 3}, []int64{1, 1, 1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := tok.Encode(c.text)
			if !slices.Equal(e.IDs, c.ids) || !slices.Equal(e.Mask, c.mask) {
				t.Errorf("Encode(%q) = %v %v, want %v %v", c.text, e.IDs, e.Mask, c.ids, c.mask)
			}
		})
	}
}

func BenchmarkWordPiece(b *testing.B) {
	tok := testWordPiece(b)
	texts := benchCaptions()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tok.Encode(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

func benchCaptions() []string {
	return []string{
		"Two young guys with shaggy hair look at their hands while hanging out.",
		"A brown dog is running through the tall green grass near a river.",
		"A woman in a red dress sitting on a bench reading her favourite book.",
		"Several people are standing outside a café waiting for the morning bus.",
		"A close-up photo of a cat sleeping on a laptop keyboard at night.",
	}
}
