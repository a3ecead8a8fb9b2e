package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func seedFuzz(f *testing.F) {
	g := goldens(f)
	for _, c := range g.Bert.Cases {
		f.Add(c.Text)
	}
	for _, c := range g.CLIP.Cases {
		f.Add(c.Text)
	}
	for _, s := range []string{"\x00\xff\xfe", "<|endoftext|>", "&amp;amp;", "\x1b[31mred", "İΣ", strings.Repeat("ab", 300)} {
		f.Add(s)
	}
}

func FuzzWordPiece(f *testing.F) {
	seedFuzz(f)
	tok := testWordPiece(f)
	f.Fuzz(func(t *testing.T, text string) {
		e := tok.Encode(text)
		checkEncoding(t, e, tok.MaxLen(), tok.VocabSize(), int64(tok.cls), int64(tok.sep), int64(tok.pad))
		ids := tok.IDs(text)
		n := min(len(ids), tok.MaxLen()-2)
		if e.Len() != n+2 {
			t.Fatalf("len %d, want %d", e.Len(), n+2)
		}
		for i := range n {
			if e.IDs[i+1] != int64(ids[i]) {
				t.Fatalf("ids[%d] = %d, want %d", i+1, e.IDs[i+1], ids[i])
			}
			if ids[i] == tok.pad || ids[i] == tok.cls || ids[i] == tok.sep {
				t.Fatalf("special id %d produced from text", ids[i])
			}
		}
	})
}

func FuzzBPE(f *testing.F) {
	seedFuzz(f)
	tok := testBPE(f)
	sot, eot, _ := tok.SpecialIDs()
	f.Fuzz(func(t *testing.T, text string) {
		e := tok.Encode(text)
		checkEncoding(t, e, tok.MaxLen(), tok.VocabSize(), sot, eot, 0)
		ids := tok.IDs(text)
		n := min(len(ids), tok.MaxLen()-2)
		if e.Len() != n+2 {
			t.Fatalf("len %d, want %d", e.Len(), n+2)
		}
		for i := range n {
			if e.IDs[i+1] != int64(ids[i]) {
				t.Fatalf("ids[%d] = %d, want %d", i+1, e.IDs[i+1], ids[i])
			}
		}
		if len(text) < 200 {
			cleaned := clipClean(text)
			want := clipRegexp.FindAllString(cleaned, -1)
			got := clipWords(cleaned)
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
				t.Fatalf("words of %q = %q, regexp gives %q", cleaned, got, want)
			}
		}
	})
}

// FuzzUnigram encodes arbitrary text with every test model: the Encoding
// invariants hold and Encode agrees with IDs and Tokens.
func FuzzUnigram(f *testing.F) {
	g := unigramGoldens(f)
	for _, c := range g.Models[0].Cases {
		if c.Repeat == 0 {
			f.Add(c.input(f))
		}
	}
	var toks []*Unigram
	for _, m := range g.Models {
		toks = append(toks, testUnigram(f, m.Model, m.LowerCase))
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, tok := range toks {
			e := tok.Encode(text)
			checkUnigramEncoding(t, tok, e)
			if len(text) > 4096 {
				continue
			}
			ids := tok.IDs(text)
			if n := len(tok.Tokens(text)); n != len(ids) {
				t.Fatalf("%d tokens, %d ids", n, len(ids))
			}
			n := min(len(ids), tok.MaxLen()-1)
			for i := range n {
				if e.IDs[i] != int64(ids[i]) {
					t.Fatalf("ids[%d] = %d, want %d (IDs %v)", i, e.IDs[i], ids[i], ids)
				}
			}
			eos, _, _ := tok.SpecialIDs()
			want := n + 1 // </s> appended unless already last
			if n > 0 && int64(ids[n-1]) == eos {
				want = n
			}
			if e.Len() != want {
				t.Fatalf("len %d, want %d (IDs %v)", e.Len(), want, ids)
			}
		}
	})
}

// FuzzSentencePieceModel feeds arbitrary bytes as the model file: NewUnigram
// either fails with ErrBadSentencePiece or gives a tokenizer whose Encodings
// hold their invariants.
func FuzzSentencePieceModel(f *testing.F) {
	for _, name := range []string{"identity.model", "ties.model"} {
		b, err := os.ReadFile(filepath.Join(spDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "A photo of a CAT </s> nyc ☃ \xff")
	}
	f.Add(testModel(smallPieces(), false), "a cat")
	f.Add(testModelWithCharsMap(), "AB cAB a")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, model []byte, text string) {
		tok, err := NewUnigram(model, UnigramOptions{MaxLen: 16, Canonicalize: CanonicalizeSigLIP})
		if err != nil {
			if !errors.Is(err, ErrBadSentencePiece) {
				t.Fatalf("error %v does not wrap ErrBadSentencePiece", err)
			}
			return
		}
		for _, s := range []string{text, "", "a photo of a cat", "<unk></s>"} {
			checkUnigramEncoding(t, tok, tok.Encode(s))
		}
	})
}
