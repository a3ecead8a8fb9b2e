package indexer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/store"
)

// TextLine is one entry of a texts file.
type TextLine struct {
	ID   string // the JSON line's "id" (string or number); "" for plain lines
	Text string
	Line int // 1-based line number in the file
}

// maxTextLine caps one line of a texts file.
const maxTextLine = 1 << 20

// ParseTexts reads a texts file: one text per line, or JSON lines {"id": ..., "text": ...}
// when the first non-blank line starts with '{'. Blank lines are ignored; surrounding spaces
// are trimmed. A malformed JSON line or a JSON line without text gives an error wrapping
// ErrBadTexts that names the line number.
func ParseTexts(r io.Reader) ([]TextLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxTextLine)
	var out []TextLine
	jsonMode, decided := false, false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" {
			continue
		}
		if !decided {
			jsonMode, decided = strings.HasPrefix(line, "{"), true
		}
		if !jsonMode {
			out = append(out, TextLine{Text: line, Line: n})
			continue
		}
		var v struct {
			ID   json.RawMessage `json:"id"`
			Text *string         `json:"text"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: line %d: invalid JSON: %v", ErrBadTexts, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: line %d: more than one JSON value", ErrBadTexts, n)
		}
		if v.Text == nil || strings.TrimSpace(*v.Text) == "" {
			return nil, fmt.Errorf("%w: line %d: no \"text\"", ErrBadTexts, n)
		}
		id, err := jsonID(v.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadTexts, n, err)
		}
		out = append(out, TextLine{ID: id, Text: strings.TrimSpace(*v.Text), Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTexts, err)
	}
	return out, nil
}

func jsonID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("\"id\" must be a string or a number, got %s", raw)
}

// TextSummary counts the outcome of [Indexer.AddTexts].
type TextSummary struct {
	Added     int `json:"added"`
	Unchanged int `json:"unchanged"` // same text and source already stored
}

// AddTexts encodes texts with the model's text encoder, Batch at a time, and stores each batch
// with its embeddings in one transaction (the corpus that image->text search ranks). A text
// already stored with the same source is not added again, so rerunning a file is harmless.
// source names the file: a line's Source is its id when it has one, else "source:line".
func (ix *Indexer) AddTexts(ctx context.Context, lines []TextLine, source string) (TextSummary, error) {
	var s TextSummary
	have, err := ix.storedTexts()
	if err != nil {
		return s, err
	}
	var todo []store.TextRecord
	for _, l := range lines {
		src := l.ID
		if src == "" {
			src = source + ":" + strconv.Itoa(l.Line)
		}
		r := store.TextRecord{Text: l.Text, Source: src}
		if k := textKey(r); have[k] {
			s.Unchanged++
			continue
		} else {
			have[k] = true
		}
		todo = append(todo, r)
	}
	for start := 0; start < len(todo); start += ix.o.Batch {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		b := todo[start:min(start+ix.o.Batch, len(todo))]
		texts := make([]string, len(b))
		for i, r := range b {
			texts[i] = r.Text
		}
		out, err := ix.model.Text.Encode(ctx, texts, encoder.TextOptions{})
		if err != nil {
			return s, fmt.Errorf("encode texts: %w", err)
		}
		batch := make([]store.NewText, len(b))
		for i, r := range b {
			batch[i] = store.NewText{Record: r, Vector: out.Embeds[i]}
		}
		if _, err := ix.ns.AddTexts(batch); err != nil {
			return s, fmt.Errorf("store texts: %w", err)
		}
		s.Added += len(b)
	}
	return s, nil
}

func textKey(r store.TextRecord) uint64 {
	h := fnv.New64a()
	h.Write([]byte(r.Source))
	h.Write([]byte{0})
	h.Write([]byte(r.Text))
	return h.Sum64()
}

// storedTexts returns the keys of the stored texts (8 bytes each).
func (ix *Indexer) storedTexts() (map[uint64]bool, error) {
	have := map[uint64]bool{}
	for after := uint64(0); ; {
		page, next, err := ix.lib.DB().Texts(after, 4096)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			have[textKey(r)] = true
		}
		if next == 0 {
			return have, nil
		}
		after = next
	}
}
