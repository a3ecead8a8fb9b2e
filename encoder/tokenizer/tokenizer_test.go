package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

type goldenCase struct {
	Text   string   `json:"text"`
	IDs    []int64  `json:"ids"`
	Pieces []string `json:"pieces"`
	Source string   `json:"source"`
}

type goldenFile struct {
	Bert struct {
		Vocab       string       `json:"vocab"`
		VocabSHA256 string       `json:"vocab_sha256"`
		CLS         int64        `json:"cls"`
		SEP         int64        `json:"sep"`
		PAD         int64        `json:"pad"`
		UNK         int64        `json:"unk"`
		Cases       []goldenCase `json:"cases"`
	} `json:"bert-base-uncased"`
	CLIP struct {
		Vocab         string       `json:"vocab"`
		VocabSHA256   string       `json:"vocab_sha256"`
		SOT           int64        `json:"sot"`
		EOT           int64        `json:"eot"`
		ContextLength int          `json:"context_length"`
		VocabSize     int          `json:"vocab_size"`
		Cases         []goldenCase `json:"cases"`
	} `json:"clip-bpe"`
}

var loadGoldens = sync.OnceValues(func() (*goldenFile, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "goldens.json"))
	if err != nil {
		return nil, err
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return &g, nil
})

func goldens(tb testing.TB) *goldenFile {
	tb.Helper()
	g, err := loadGoldens()
	if err != nil {
		tb.Fatalf("load goldens: %v", err)
	}
	return g
}

var (
	wordPiecePath = filepath.Join("testdata", "bert-base-uncased", "vocab.txt")
	bpePath       = filepath.Join("testdata", "clip", "bpe_simple_vocab_16e6.txt.gz")
	loadWP        = sync.OnceValues(func() (*WordPiece, error) { return LoadWordPiece(wordPiecePath, WordPieceOptions{}) })
	loadBPE       = sync.OnceValues(func() (*BPE, error) { return LoadBPE(bpePath, BPEOptions{}) })
)

func testWordPiece(tb testing.TB) *WordPiece {
	tb.Helper()
	t, err := loadWP()
	if err != nil {
		tb.Fatalf("load wordpiece: %v", err)
	}
	return t
}

func testBPE(tb testing.TB) *BPE {
	tb.Helper()
	t, err := loadBPE()
	if err != nil {
		tb.Fatalf("load bpe: %v", err)
	}
	return t
}

func TestVocabSHA256(t *testing.T) {
	g := goldens(t)
	for _, c := range []struct{ name, path, want string }{
		{"bert-base-uncased", g.Bert.Vocab, g.Bert.VocabSHA256},
		{"clip-bpe", g.CLIP.Vocab, g.CLIP.VocabSHA256},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(c.path)))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != c.want {
				t.Errorf("sha256 = %s, want %s", got, c.want)
			}
		})
	}
}

// checkEncoding verifies the invariants every Encoding must satisfy.
func checkEncoding(tb testing.TB, e Encoding, maxLen, vocabSize int, start, end, pad int64) {
	tb.Helper()
	if len(e.IDs) != maxLen || len(e.Mask) != maxLen {
		tb.Fatalf("len(ids)=%d len(mask)=%d, want %d", len(e.IDs), len(e.Mask), maxLen)
	}
	if e.IDs[0] != start || e.Mask[0] != 1 {
		tb.Fatalf("first id %d mask %d, want start %d mask 1", e.IDs[0], e.Mask[0], start)
	}
	n := e.Len()
	for i := range maxLen {
		if e.IDs[i] < 0 || e.IDs[i] >= int64(vocabSize) {
			tb.Fatalf("ids[%d]=%d out of [0,%d)", i, e.IDs[i], vocabSize)
		}
		wantMask := int64(0)
		if i < n {
			wantMask = 1
		}
		if e.Mask[i] != wantMask {
			tb.Fatalf("mask %v is not 1s then 0s", e.Mask)
		}
		if i >= n && e.IDs[i] != pad {
			tb.Fatalf("ids[%d]=%d past the mask, want pad %d", i, e.IDs[i], pad)
		}
	}
	if n < 2 || e.IDs[n-1] != end {
		tb.Fatalf("last real token (pos %d) = %d, want end %d; ids %v", n-1, e.IDs[n-1], end, e.IDs)
	}
}

func TestEncodeBatch(t *testing.T) {
	texts := []string{"hello world", "", "a photo of a cat"}
	for _, tok := range []Tokenizer{testWordPiece(t), testBPE(t)} {
		ids, mask := EncodeBatch(tok, texts)
		l := tok.MaxLen()
		if len(ids) != len(texts)*l || len(mask) != len(ids) {
			t.Fatalf("%T: batch sizes %d/%d, want %d", tok, len(ids), len(mask), len(texts)*l)
		}
		for i, text := range texts {
			e := tok.Encode(text)
			if !slices.Equal(ids[i*l:(i+1)*l], e.IDs) || !slices.Equal(mask[i*l:(i+1)*l], e.Mask) {
				t.Errorf("%T: batch row %d differs from Encode(%q)", tok, i, text)
			}
		}
	}
}

func TestConcurrentEncode(t *testing.T) {
	g := goldens(t)
	wp, bpe := testWordPiece(t), testBPE(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				c := g.Bert.Cases[(i+w)%len(g.Bert.Cases)]
				if got := wp.Encode(c.Text).IDs[:len(c.IDs)]; !slices.Equal(got, c.IDs) {
					t.Errorf("wordpiece %q: %v, want %v", c.Text, got, c.IDs)
				}
				d := g.CLIP.Cases[(i+w)%len(g.CLIP.Cases)]
				// vary the text so the BPE cache is written concurrently
				text := d.Text + strings.Repeat(" zq", i%5)
				if got := bpe.Encode(text).IDs[:len(d.IDs)-1]; !slices.Equal(got, d.IDs[:len(d.IDs)-1]) {
					t.Errorf("bpe %q: %v, want prefix of %v", text, got, d.IDs)
				}
			}
		})
	}
	wg.Wait()
}

func TestPyLower(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"ascii", "Hello World", "hello world"},
		{"accented", "ÉCOLE", "école"},
		{"dotted capital I", "İstanbul", "i\u0307stanbul"},
		{"final sigma", "ΟΔΟΣ", "οδος"},
		{"sigma before punctuation", "ΟΔΟΣ.", "οδος."},
		{"medial sigma", "ΣΑΣ ΑΣΑ", "σας ασα"},
		{"lone sigma", "Σ", "σ"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := pyLower(c.in); got != c.want {
				t.Errorf("pyLower(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
