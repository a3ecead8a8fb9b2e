package tokenizer

import (
	"strings"
	"testing"
)

// TestBLIPCaption: BLIP's pre_caption, the wanted strings printed by
// tools/upstream/blip.py's pre_caption (Python 3.11).
func TestBLIPCaption(t *testing.T) {
	var words40, words30 []string
	for i := range 40 {
		words40 = append(words40, "w"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	words30 = words40[:30]
	for _, c := range []struct{ in, want string }{
		{"A Dog (running) on the beach!!", "a dog running on the beach"},
		{"  two\tspaces  here.  ", "two\tspaces here"},
		{"tab\tonly", "tab\tonly"},
		{"line\n", "line"},
		{"end\n\n", "end"},
		{"ÉCOLE; café: naïve~", "école café naïve"},
		{"\u3000ideographic\u3000\u3000space", "\u3000ideographic space"},
		{strings.Join(words40, " "), strings.Join(words30, " ")},
		{"a*b#c", "a b c"},
		{"", ""},
		{"...", ""},
		{"İstanbul ΣΑΣ", "i̇stanbul σας"},
	} {
		if got := blipCaption(c.in); got != c.want {
			t.Errorf("blipCaption(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCleanOptions: the clean-ups change the ids they should, and unknown
// names are refused.
func TestCleanOptions(t *testing.T) {
	wp := mustWordPiece(t, WordPieceOptions{MaxLen: 16})
	blip := mustWordPiece(t, WordPieceOptions{MaxLen: 16, Clean: CleanBLIPCaption})
	if a, b := wp.Encode("a dog (running)!"), blip.Encode("a dog running"); equalIDs(a.IDs, b.IDs) {
		t.Errorf("without clean-up the punctuation should stay: %v", a.IDs)
	}
	if a, b := blip.Encode("a dog (running)!"), wp.Encode("a dog running"); !equalIDs(a.IDs, b.IDs) {
		t.Errorf("blip_caption: %v, want %v", a.IDs, b.IDs)
	}
	openai := mustBPE(t, BPEOptions{})
	hf := mustBPE(t, BPEOptions{Clean: CleanHF, Pad: 49407})
	if a, b := openai.Encode("rock &amp; roll"), openai.Encode("rock & roll"); !equalIDs(a.IDs, b.IDs) {
		t.Errorf("openai unescapes HTML: %v vs %v", a.IDs, b.IDs)
	}
	if a, b := hf.Encode("rock &amp; roll"), hf.Encode("rock & roll"); equalIDs(a.IDs, b.IDs) {
		t.Errorf("hf keeps HTML entities: both %v", a.IDs)
	}
	e := hf.Encode("a dog")
	if n := e.Len(); e.IDs[n] != 49407 || e.IDs[len(e.IDs)-1] != 49407 {
		t.Errorf("hf pads with 49407: %v", e.IDs)
	}
	if _, err := NewWordPiece(strings.NewReader("[CLS]\n[SEP]\n[PAD]\n[UNK]\n"), WordPieceOptions{Clean: "hf"}); err == nil {
		t.Error("wordpiece accepted Clean hf")
	}
	if _, err := NewBPE(strings.NewReader(""), BPEOptions{Clean: CleanBLIPCaption}); err == nil {
		t.Error("bpe accepted Clean blip_caption")
	}
	if _, err := NewBPE(strings.NewReader(""), BPEOptions{Pad: CLIPVocabSize}); err == nil {
		t.Error("bpe accepted a pad outside the vocabulary")
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustWordPiece(t *testing.T, o WordPieceOptions) *WordPiece {
	t.Helper()
	tok, err := LoadWordPiece(wordPiecePath, o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustBPE(t *testing.T, o BPEOptions) *BPE {
	t.Helper()
	tok, err := LoadBPE(bpePath, o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
