package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// TestHFRegexp checks Oniguruma's matches (as tokenizers 0.20.3's Split gives
// them) for the constructs tokenizer files use and the points where
// Oniguruma differs from Go's regexp; testdata/hfjson/regex.json has random
// patterns.
func TestHFRegexp(t *testing.T) {
	tests := []struct {
		name, pattern, text string
		want                []string
	}{
		{"CLIP", `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, "it's 12 cats!!  ok",
			[]string{"it", "'s", "1", "2", "cats", "!!", "ok"}},
		{"GPT-2 spaces before a word stay apart", `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
			"a   b  \n c   ", []string{"a", "  ", " b", "  \n", " c", "   "}},
		{"lookahead at the end", `\s+(?!\S)|\s+`, "a   b  \n c   ", []string{"  ", " ", "  \n", " ", "   "}},
		{"(?i) folds to ſ", `(?i:'s)`, "'ſ 'S 's", []string{"'ſ", "'S", "'s"}},
		{"(?i) takes in the alternatives after it", `a(?i)b|c`, "ac c aB", []string{"ac", "aB"}},
		{"{,n} is {0,n}", `xa{,2}`, "xaaax", []string{"xaa", "x"}},
		{"{n}? is optional", `x(?:ab){2}?`, "xab", []string{"x"}},
		{"{n,n}? is lazy", `x(?:ab){2,2}?`, "xab", nil},
		{"lazy", `a+?`, "aaa", []string{"a", "a", "a"}},
		{"leftmost first", `(a|ab)(c|bcd)`, "abcd", []string{"abcd"}},
		{"\\w has Latin-1 digits", `\w+`, "a² b", []string{"a²", "b"}},
		{"\\s is White_Space", `\s`, "a\u0085b\u00a0c\u200bd\x1ce\vf", []string{"\u0085", "\u00a0", "\v"}},
		{"\\d is Nd", `\d`, "٣ ² 5 Ⅻ", []string{"٣", "5"}},
		{"Unicode 14.0 letters", `\p{L}+`, "a\U00011f04b", []string{"a", "b"}},
		{"dot is not newline", `.+`, "ab\ncd\re", []string{"ab", "cd\re"}},
		{"literal braces", `a{x}|}`, "a{x}b}", []string{"a{x}", "}"}},
		{"negated property", `\p{^L}+|\P{N}+`, "ab12cd", []string{"ab", "12", "cd"}},
		{"script", `\p{Han}+`, "漢字かな", []string{"漢字"}},
		{"escapes", `\x41\u0042\x{43}`, "xABC", []string{"ABC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := compileOnig(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			re.find(tt.text, func(start, end int) bool {
				got = append(got, tt.text[start:end])
				return true
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHFRegexpRefusals checks that what cannot be matched as Oniguruma
// matches is an error naming it.
func TestHFRegexpRefusals(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`^a`, "anchor"},
		{`a$`, "anchor"},
		{`(?<=a)b`, "lookbehind"},
		{`(a)\1`, `escape \1`},
		{`(?>a)`, "group (?>"},
		{`a++`, "possessive"},
		{`a**`, "repeated quantifier"},
		{`(?i:ss)`, "multi-character case folding"},
		{`(?i)é`, "non-ASCII literal"},
		{`\h`, `escape \h`},
		{`[[:alpha:]]`, "POSIX"},
		{`[a&&b]`, "intersection"},
		{`a(?=bc)`, "exactly one character"},
		{`a*`, "empty string"},
		{`(?:a?|b)*c`, "unbounded repeat"},
		{`(a`, "missing )"},
		{`a)`, "unmatched )"},
		{`*a`, "nothing to repeat"},
		{`\p{Foo}`, "unknown or unsupported property"},
		{`a{2000}`, "repeat count"},
		{`(?m)a`, "group (?m"},
		{`(?:a|b){1000}`, "instructions"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := compileOnig(tt.pattern)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}
