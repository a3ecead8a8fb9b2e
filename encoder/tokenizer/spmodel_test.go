package tokenizer

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pb appends protobuf fields; a test-side writer for hand-made models.
type pb []byte

func (b pb) varint(field int, v uint64) pb {
	b = binary.AppendUvarint(b, uint64(field)<<3|pbVarint)
	return binary.AppendUvarint(b, v)
}

func (b pb) bytes(field int, v []byte) pb {
	b = binary.AppendUvarint(b, uint64(field)<<3|pbBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func (b pb) float(field int, v float32) pb {
	b = binary.AppendUvarint(b, uint64(field)<<3|pbFixed32)
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

type testPiece struct {
	piece string
	score float32
	typ   spPieceType
}

// testModel serializes a ModelProto: pieces, then trainer_spec (byte
// fallback when asked) and normalizer_spec (no dummy prefix, the default
// whitespace handling, no charsmap).
func testModel(pieces []testPiece, byteFallback bool) []byte {
	var m pb
	for _, p := range pieces {
		var sp pb
		sp = sp.bytes(1, []byte(p.piece)).float(2, p.score)
		if p.typ != 0 {
			sp = sp.varint(3, uint64(p.typ))
		}
		m = m.bytes(1, sp)
	}
	var ts pb
	ts = ts.varint(3, spModelUnigram)
	if byteFallback {
		ts = ts.varint(35, 1)
	}
	m = m.bytes(2, ts)
	var ns pb
	ns = ns.bytes(1, []byte("identity")).varint(3, 0)
	return m.bytes(3, ns)
}

// smallPieces is a SigLIP-like vocabulary: <pad> </s> <unk>, then a few
// words.
func smallPieces() []testPiece {
	return []testPiece{
		{"<pad>", 0, spControl}, {"</s>", 0, spControl}, {"<unk>", 0, spUnknown},
		{"▁", -2, spNormal}, {"▁a", -1, spNormal}, {"▁cat", -1.5, spNormal}, {"c", -3, spNormal},
		{"a", -3, spNormal}, {"t", -3, spNormal}, {"<", -4, spNormal}, {">", -4, spNormal},
		{"u", -4, spNormal}, {"n", -4, spNormal}, {"k", -4, spNormal}, {"▁photo", -1, spNormal},
	}
}

func TestParseSPModelErrors(t *testing.T) {
	base := smallPieces()
	with := func(extra ...testPiece) []testPiece { return append(slices.Clone(base), extra...) }
	bytePieces := func() []testPiece {
		var ps []testPiece
		for b := range 256 {
			ps = append(ps, testPiece{"<0x" + strings.ToUpper(hexByte(b)) + ">", 0, spByte})
		}
		return ps
	}
	valid := testModel(base, false)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "unk is not defined"},
		{"truncated varint", []byte{0x0a, 0x80}, "malformed varint"},
		{"length past the end", []byte{0x0a, 0x05, 'a'}, "past the end"},
		{"group wire type", []byte{0x0b}, "wire type"},
		{"field zero", []byte{0x02, 0x00}, "field number"},
		{"truncated fixed32", pb(nil).bytes(1, []byte{0x15, 0x00}), "fixed32"},
		{"truncated valid model", valid[:len(valid)-3], "past the end"},
		{"empty piece", testModel(with(testPiece{"", -1, spNormal}), false), "empty"},
		{"duplicate piece", testModel(with(testPiece{"▁cat", -2, spNormal}), false), "already defined"},
		{"duplicate reserved", testModel(with(testPiece{"</s>", 0, spControl}), false), "already defined"},
		{"no unk", testModel(base[3:], false), "unk is not defined"},
		{"two unk", testModel(with(testPiece{"<unk2>", 0, spUnknown}), false), "unk is already defined"},
		{"byte piece without fallback", testModel(with(testPiece{"<0x41>", 0, spByte}), false), "byte_fallback is false"},
		{"bad byte piece", testModel(with(testPiece{"<0x4g>", 0, spByte}), true), "invalid"},
		{"fallback without bytes", testModel(base, true), "byte piece <0x00>"},
		{"fallback missing one byte", testModel(with(bytePieces()[1:]...), true), "<0x00>"},
		{"only reserved pieces", testModel(base[:3], false), "no normal"},
		{"bpe model", append(slices.Clone(valid), pb(nil).bytes(2, pb(nil).varint(3, 2))...), "not unigram"},
		{"charsmap too short", append(slices.Clone(valid), pb(nil).bytes(3, pb(nil).bytes(2, []byte{1, 2, 3}))...), "broken"},
		{"charsmap trie too big", append(slices.Clone(valid), pb(nil).bytes(3, pb(nil).bytes(2, []byte{9, 0, 0, 0, 1, 2, 3}))...), "exceeds"},
		{"piece too long", testModel(with(testPiece{strings.Repeat("x", spMaxPieceBytes+1), -1, spNormal}), false), "bytes long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewUnigram(c.data, UnigramOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if !errors.Is(err, ErrBadSentencePiece) {
				t.Errorf("err %v does not wrap ErrBadSentencePiece", err)
			}
		})
	}
	if _, err := NewUnigram(valid, UnigramOptions{}); err != nil {
		t.Fatalf("valid model: %v", err)
	}
}

func hexByte(b int) string {
	return string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
}

func TestNewUnigramOptionErrors(t *testing.T) {
	model := testModel(smallPieces(), false)
	for _, c := range []struct {
		name string
		opts UnigramOptions
		want string
	}{
		{"max len", UnigramOptions{MaxLen: 1}, "MaxLen"},
		{"canonicalizer", UnigramOptions{Canonicalize: "clip"}, "Canonicalize"},
		{"eos not a piece", UnigramOptions{EOSToken: "<eos>"}, "eos token"},
		{"unk not a piece", UnigramOptions{UNKToken: "[UNK]"}, "unk token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewUnigram(model, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %s", err, c.want)
			}
		})
	}
	if _, err := LoadUnigram(filepath.Join(spDir, "missing.model"), UnigramOptions{}); err == nil {
		t.Error("LoadUnigram of a missing file: no error")
	}
}

func TestParseSPModelProtoRules(t *testing.T) {
	var extra pb
	extra = extra.varint(99, 7).bytes(98, []byte("ignored")).float(97, 1)
	extra = binary.LittleEndian.AppendUint64(binary.AppendUvarint(extra, 96<<3|pbFixed64), 1)
	// A piece whose type is an unknown enum value stays NORMAL; a second
	// trainer_spec merges into the first (byte_fallback stays off, the
	// model type set again).
	var odd pb
	odd = odd.bytes(1, []byte("▁dog")).float(2, -1).varint(3, 42)
	data := append(testModel(smallPieces(), false), extra...)
	data = pb(data).bytes(1, odd).bytes(2, pb(nil).varint(3, spModelUnigram))
	m, err := parseSPModel(data)
	if err != nil {
		t.Fatal(err)
	}
	last := m.pieces[len(m.pieces)-1]
	if last.piece != "▁dog" || last.typ != spNormal || last.score != -1 {
		t.Errorf("last piece %+v, want ▁dog NORMAL -1", last)
	}
	if m.addDummyPrefix || !m.removeExtraSpaces || !m.escapeWhitespaces || m.normName != "identity" || m.byteFallback {
		t.Errorf("spec %+v", m)
	}
	if _, err := parseSPModel(make([]byte, spMaxModelBytes+1)); err == nil {
		t.Error("oversized model: no error")
	}
}

// TestUnigramHandMade checks behaviours on a hand-made vocabulary whose
// segmentation is clear without a reference.
func TestUnigramHandMade(t *testing.T) {
	pieces := append(smallPieces(), testPiece{"nyc", 0, spUserDefined}, testPiece{"▁dog", -1, spUnused})
	tok, err := NewUnigram(testModel(pieces, false), UnigramOptions{MaxLen: 8, Canonicalize: CanonicalizeSigLIP})
	if err != nil {
		t.Fatal(err)
	}
	if eos, pad, unk := tok.SpecialIDs(); eos != 1 || pad != 1 || unk != 2 {
		t.Fatalf("special ids %d %d %d", eos, pad, unk)
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"a cat", []string{"▁a", "▁cat"}},
		{"A CAT!", []string{"▁a", "▁cat"}},
		{"cat nyc", []string{"▁cat", "▁", "nyc"}},
		{"dog", []string{"▁", "dog"}}, // ▁dog is unused; d, o, g are one unknown run
		{"a </s> cat", []string{"▁a", "</s>", "c", "a", "t"}},
		{"</s>", []string{"</s>"}},
		{"", nil},
	} {
		if got := tok.Tokens(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	e := tok.Encode("a photo a photo a photo a photo")
	if want := []int64{4, 14, 4, 14, 4, 14, 4, 1}; !slices.Equal(e.IDs, want) {
		t.Errorf("truncated ids %v, want %v", e.IDs, want)
	}
	checkUnigramEncoding(t, tok, e)
	e = tok.Encode("a photo a photo a photo </s> a photo")
	if want := []int64{4, 14, 4, 14, 4, 14, 1, 1}; !slices.Equal(e.IDs, want) || e.Len() != 7 {
		t.Errorf("ids %v (len %d), want %v with </s> kept last and not repeated", e.IDs, e.Len(), want)
	}
}

func TestAppendPyDecoded(t *testing.T) {
	// Expected values from Python 3.11: bytes.decode("utf-8", "replace").
	for _, c := range []struct{ in, want string }{
		{"caf\xe9", "caf\ufffd"},
		{"ok\xe2\x82", "ok\ufffd"},
		{"\xe2\x82ok", "\ufffdok"},
		{"\xf0\x9f\x98", "\ufffd"},
		{"\xf0\x80\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"},
		{"\xc0\xaf", "\ufffd\ufffd"},
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"\xe0\x9f\x80", "\ufffd\ufffd\ufffd"},
		{"\xe0\xa0", "\ufffd"},
		{"\xf4\x8f\xbf", "\ufffd"},
		{"a\x80b\xbfc", "a\ufffdb\ufffdc"},
		{"\xff\xfe", "\ufffd\ufffd"},
		{"é\xc3", "é\ufffd"},
		{"\U0010ffff", "\U0010ffff"},
	} {
		if got := string(appendPyDecoded(nil, c.in)); got != c.want {
			t.Errorf("appendPyDecoded(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSigLIPCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"  Hello,   World!  ", "Hello World"},
		{"a . b", "a b"},
		{"tab\tnew\nline\u3000wide\u00a0nb\x1cfs", "tab new line wide nb fs"},
		{"don't", "dont"},
		{"«quoted» ¿qué?", "«quoted» ¿qué"},
		{"\u200bzero", "\u200bzero"}, // not Python whitespace
	} {
		if got := string(appendSigLIPCanonical(nil, []byte(c.in))); got != c.want {
			t.Errorf("canonical(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPieceTrie(t *testing.T) {
	keys := []string{"a", "ab", "abc", "", "b", "ab", "xyz", "\xff\x00"}
	for i := range 40 {
		keys = append(keys, "k"+string(rune('0'+i))) // a wide node: binary search
	}
	tr := newPieceTrie(keys)
	for i, k := range keys {
		want := int32(i)
		if k == "" {
			want = -1
		}
		if k == "ab" {
			want = 1 // the first duplicate wins
		}
		if got := tr.lookup([]byte(k)); got != want {
			t.Errorf("lookup(%q) = %d, want %d", k, got, want)
		}
	}
	for _, c := range []struct {
		s    string
		want int
	}{{"abcd", 3}, {"abx", 2}, {"x", 0}, {"xyz!", 3}, {"", 0}, {"\xff\x00\x01", 2}, {"k7z", 2}} {
		if got := tr.longestPrefix([]byte(c.s)); got != c.want {
			t.Errorf("longestPrefix(%q) = %d, want %d", c.s, got, c.want)
		}
	}
	if tr.lookup([]byte("abcd")) != -1 || tr.lookup([]byte("k")) != -1 {
		t.Error("lookup of a non-key prefix/extension found something")
	}
}

func TestUnigramTestdataLoads(t *testing.T) {
	ents, err := os.ReadDir(spDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".model") {
			n++
			if _, err := LoadUnigram(filepath.Join(spDir, e.Name()), UnigramOptions{}); err != nil {
				t.Errorf("%s: %v", e.Name(), err)
			}
		}
	}
	if n < 4 {
		t.Errorf("%d models in %s, want 4", n, spDir)
	}
}

// testCharsMap builds a precompiled_charsmap by hand: a darts-clone double
// array with the rules "A" -> "a" and "AB" -> "x y", and the replacement
// blob "a\0x y\0". A unit is label | has_leaf<<8 | offset<<10; a node's
// child by byte c is at node ^ offset ^ c; a leaf unit holds 1<<31 | value.
func testCharsMap() []byte {
	units := make([]uint32, 70)
	units[0] = 1 << 10               // root (offset 1)
	units[0x40] = 'A' | 1<<8 | 1<<10 // 0^1^'A'; its leaf at 0x40^1
	units[0x41] = 1<<31 | 0          // "A" -> blob[0:]
	units[3] = 'B' | 1<<8 | 7<<10    // 0x41^'B'; its leaf at 3^7
	units[4] = 1<<31 | 2             // "AB" -> blob[2:]
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(4*len(units)))
	for _, u := range units {
		b = binary.LittleEndian.AppendUint32(b, u)
	}
	return append(b, "a\x00x y\x00"...)
}

func TestCharsMapHandMade(t *testing.T) {
	c, err := newCharsMap(testCharsMap())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in, repl string
		n        int
	}{{"A", "a", 1}, {"Ax", "a", 1}, {"AB", "x y", 2}, {"ABC", "x y", 2}, {"B", "", 0}, {"", "", 0}} {
		repl, n := c.longest([]byte(tc.in))
		if string(repl) != tc.repl || n != tc.n {
			t.Errorf("longest(%q) = %q, %d; want %q, %d", tc.in, repl, n, tc.repl, tc.n)
		}
	}
	n := spNormalizer{rules: c, removeSpaces: true, escape: true}
	for _, tc := range []struct{ in, want string }{
		{"A", "a"},
		{"  AB  AB ", "x▁y▁x▁y"},
		{"cAB", "cx▁y"},
		{"\xff", "\ufffd"},
		{"   ", ""},
	} {
		if got := string(n.normalize(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// testModelWithCharsMap is testModel's small vocabulary with testCharsMap
// as its normalization rules.
func testModelWithCharsMap() []byte {
	var ns pb
	ns = ns.bytes(1, []byte("handmade")).bytes(2, testCharsMap()).varint(3, 0)
	return pb(testModel(smallPieces(), false)).bytes(3, ns)
}
