package tokenizer

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The text clean-ups a model's own data pipeline applies before its
// tokenizer (the manifest's text.clean): each tokenizer accepts the ones of
// the families that use it.
const (
	// CleanBLIPCaption is BLIP's pre_caption (data/utils.py), which
	// Salesforce's retrieval code runs on every caption: lower-cased,
	// . ! " ( ) * # : ; ~ replaced by spaces, runs of two or more
	// whitespace characters collapsed to one space, stripped of spaces, and
	// cut to its first 30 space-separated words (WordPieceOptions.Clean).
	CleanBLIPCaption = "blip_caption"
	// CleanOpenAI is OpenAI CLIP's basic_clean: ftfy (approximated) and
	// HTML entities unescaped twice (BPEOptions.Clean, the default).
	CleanOpenAI = "openai"
	// CleanHF is the Hugging Face fast CLIP tokenizer's normaliser: NFC
	// only, no ftfy and no HTML unescaping (BPEOptions.Clean).
	CleanHF = "hf"
)

// blipCaptionWords is pre_caption's max_words as the retrieval datasets call it.
const blipCaptionWords = 30

// blipCaption is BLIP's pre_caption(text, max_words=30).
func blipCaption(text string) string {
	text = pyLower(strings.ToValidUTF8(text, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(text))
	run := 0 // whitespace characters pending
	var first rune
	flush := func() {
		switch {
		case run >= 2:
			b.WriteByte(' ')
		case run == 1:
			b.WriteRune(first)
		}
		run = 0
	}
	for _, r := range text {
		switch r {
		case '.', '!', '"', '(', ')', '*', '#', ':', ';', '~':
			r = ' '
		}
		if isPySpace(r) {
			if run == 0 {
				first = r
			}
			run++
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	s := strings.TrimRight(b.String(), "\n")
	s = strings.Trim(s, " ")
	n, cut := 0, -1
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			n++
			if n == blipCaptionWords {
				cut = i
				break
			}
		}
	}
	if cut >= 0 {
		s = s[:cut]
	}
	return s
}

// hfCLIPClean is the Hugging Face CLIP tokenizer's normaliser: NFC, runs
// of whitespace (Unicode White_Space, as Rust's regex \s) to one space,
// lower-cased. Invalid UTF-8 reads as U+FFFD.
func hfCLIPClean(text string) string {
	text = norm.NFC.String(strings.ToValidUTF8(text, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return pyLower(b.String())
}

// checkClean returns an error unless clean is "" or one of allowed.
func checkClean(kind, clean string, allowed ...string) error {
	if clean == "" {
		return nil
	}
	for _, a := range allowed {
		if clean == a {
			return nil
		}
	}
	return fmt.Errorf("tokenizer: %s Clean %q is not one of %q", kind, clean, allowed)
}
