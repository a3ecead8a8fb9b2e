package tokenizer

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestBPEGoldens(t *testing.T) {
	g := goldens(t)
	tok := testBPE(t)
	sot, eot, _ := tok.SpecialIDs()
	if sot != g.CLIP.SOT || eot != g.CLIP.EOT || tok.MaxLen() != g.CLIP.ContextLength || tok.VocabSize() != g.CLIP.VocabSize {
		t.Fatalf("sot %d eot %d ctx %d vocab %d, want %d %d %d %d", sot, eot, tok.MaxLen(), tok.VocabSize(),
			g.CLIP.SOT, g.CLIP.EOT, g.CLIP.ContextLength, g.CLIP.VocabSize)
	}
	for i, c := range g.CLIP.Cases {
		t.Run(caseName(i, c.Text), func(t *testing.T) {
			e := tok.Encode(c.Text)
			checkEncoding(t, e, tok.MaxLen(), tok.VocabSize(), sot, eot, 0)
			if got := e.IDs[:e.Len()]; !slices.Equal(got, c.IDs) {
				t.Errorf("ids = %v, want %v (tokens %q)", got, c.IDs, tok.Tokens(c.Text))
			}
		})
	}
}

func TestBPEEdgeCases(t *testing.T) {
	tok := testBPE(t)
	long := strings.Repeat("a photo of a cat on a mat. ", 4000) // ~100 KB
	longWord := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 4000)
	for _, c := range []struct {
		name   string
		text   string
		want   []string // expected tokens; nil = compare with same
		same   string   // text expected to tokenize identically
		maxOut bool
	}{
		{name: "empty", text: "", want: []string{}},
		{name: "only whitespace", text: " \t\n\r\u00a0\u3000\x1c ", want: []string{}},
		{name: "only punctuation", text: "!?...", want: []string{"!", "?...</w>"}},
		{name: "accents", text: "Café Déjà vu", same: "café déjà vu"},
		{name: "combining accents are composed (NFC)", text: "cafe\u0301", same: "café"},
		{name: "CJK", text: "你好世界", want: nil, same: "  你好世界 "},
		{name: "emoji", text: "I ❤️ 🍕", want: nil, same: "i ❤️ 🍕"},
		{name: "control chars", text: "a\x00b\x07c", same: "abc"},
		{name: "100 KB string", text: long, maxOut: true},
		{name: "100 KB word", text: longWord, maxOut: true},
		{name: "150-char word", text: strings.Repeat("x", 150), want: nil, same: strings.Repeat("X", 150)},
		{name: "invalid UTF-8", text: "caf\xe9 ok\xff", same: "caf\ufffd ok\ufffd"},
		{name: "html entities twice", text: "fish &amp;amp; chips", same: "fish & chips"},
		{name: "curly quotes", text: "don’t “stop”", same: "don't \"stop\""},
		{name: "ligature", text: "ﬁsh", same: "fish"},
		{name: "full width", text: "ＣＬＩＰ", same: "clip"},
		{name: "special strings", text: "a <|endoftext|> b", want: []string{"a</w>", "<|endoftext|>", "b</w>"}},
		{name: "contractions", text: "it's we'll I'D", want: []string{"it</w>", "'s</w>", "we</w>", "'ll</w>", "i</w>", "'d</w>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sot, eot, _ := tok.SpecialIDs()
			e := tok.Encode(c.text)
			checkEncoding(t, e, tok.MaxLen(), tok.VocabSize(), sot, eot, 0)
			got := tok.Tokens(c.text)
			switch {
			case c.want != nil:
				if !slices.Equal(got, c.want) {
					t.Errorf("tokens = %q, want %q", got, c.want)
				}
			case c.same != "":
				if want := tok.Tokens(c.same); !slices.Equal(got, want) {
					t.Errorf("tokens = %q, want those of %q: %q", got, c.same, want)
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
	t.Run("truncation keeps prefix", func(t *testing.T) {
		ids := tok.IDs(long)
		e := tok.Encode(long)
		for i := 1; i < tok.MaxLen()-1; i++ {
			if e.IDs[i] != int64(ids[i-1]) {
				t.Fatalf("ids[%d] = %d, want %d", i, e.IDs[i], ids[i-1])
			}
		}
	})
}

// clipRegexp is the reference pre-tokenisation pattern; \s is spelled out
// because Go's \s is ASCII-only.
var clipRegexp = regexp.MustCompile(`(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{1c}-\x{1f}\v\p{L}\p{N}]+`)

func clipWords(text string) []string {
	var out []string
	for pos := 0; pos < len(text); {
		s, e := clipNextWord(text, pos)
		if s < 0 {
			break
		}
		out = append(out, text[s:e])
		pos = e
	}
	return out
}

func checkScanner(t *testing.T, text string) {
	t.Helper()
	cleaned := clipClean(text)
	want := clipRegexp.FindAllString(cleaned, -1)
	if got := clipWords(cleaned); !slices.Equal(got, want) {
		t.Errorf("words of %q = %q, regexp gives %q", cleaned, got, want)
	}
}

func TestCLIPScannerMatchesRegexp(t *testing.T) {
	for _, text := range []string{
		"", "hello world", "don't 'S 'ſ '''s", "<|startoftext|>x<|ENDOFTEXT|>", "!<|endoftext|>",
		"3.14 ¾ ٣ x²", "a\u0301b", "你好 世界", "🍕🍕 ok", "tab\tsep", "'", "'r", "'ll'd",
	} {
		checkScanner(t, text)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aS'ſ <|>dlrtvme1²!.\u00a0é世🍕\u0301\u2028")
	for range 3000 {
		r := make([]rune, rng.IntN(20))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkScanner(t, string(r))
	}
}

func TestBPEHeapMatchesSimple(t *testing.T) {
	tok := testBPE(t)
	if !tok.ordered {
		t.Fatal("CLIP merges should be ordered")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"supercalifragilisticexpialidocious", "aaaaaaaaaaaaaaa", "photographphotograph", "你好世界"}
	letters := "etaoinshrdlucmfwypvbgkjqxz"
	for range 2000 {
		b := make([]byte, 1+rng.IntN(80))
		for i := range b {
			b[i] = letters[min(rng.IntN(len(letters)), rng.IntN(len(letters)))]
		}
		words = append(words, string(b))
	}
	for _, w := range words {
		syms := make([]int32, len(w))
		for i := range len(w) {
			syms[i] = tok.byteID[w[i]]
		}
		syms[len(syms)-1] += 256
		a := tok.mergeSimple(slices.Clone(syms))
		b := tok.mergeHeap(slices.Clone(syms))
		if !slices.Equal(a, b) {
			t.Fatalf("word %q: simple %v, heap %v", w, a, b)
		}
	}
}

func TestNewBPEErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		opts BPEOptions
		want string
	}{
		{"not gzip", "plain text", BPEOptions{}, "gzip"},
		{"context too small", "", BPEOptions{ContextLength: 1}, "ContextLength"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewBPE(strings.NewReader(c.data), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %s", err, c.want)
			}
		})
	}
	if _, err := LoadBPE("testdata/missing.gz", BPEOptions{}); err == nil {
		t.Error("LoadBPE of a missing file: no error")
	}
}

func TestBPEContextLength(t *testing.T) {
	tok, err := LoadBPE(bpePath, BPEOptions{ContextLength: 4})
	if err != nil {
		t.Fatal(err)
	}
	e := tok.Encode("a photo of a cat")
	if want := []int64{49406, 320, 1125, 49407}; !slices.Equal(e.IDs, want) {
		t.Errorf("ids = %v, want %v", e.IDs, want)
	}
}

func BenchmarkBPE(b *testing.B) {
	tok := testBPE(b)
	texts := benchCaptions()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tok.Encode(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

func BenchmarkBPEUncached(b *testing.B) {
	tok := testBPE(b)
	texts := benchCaptions()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tok.mu.Lock()
		clear(tok.cache)
		tok.mu.Unlock()
		tok.Encode(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}
