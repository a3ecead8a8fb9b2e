package tokenizer

import (
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
	sot, eot := tok.SpecialIDs()
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
