package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// hfAddedToken is an added token's settings.
type hfAddedToken struct {
	content                                         string
	singleWord, lstrip, rstrip, normalized, special bool
}

// hfAdded is tokenizers' AddedVocabulary: the added tokens' ids and the
// two sets of patterns found in the text, the raw one before normalization
// and the normalized one after.
type hfAdded struct {
	ids             map[string]int32
	byID            map[int32]hfAddedToken
	raw, normalized hfTokenSet
}

// hfTokenSet finds the leftmost, then longest, token of a set at each point
// (aho-corasick's LeftmostLongest).
type hfTokenSet struct {
	trie *pieceTrie // nil: empty set
	ids  []int32    // id of each key
}

func newHFTokenSet(keys []string, ids []int32) hfTokenSet {
	if len(keys) == 0 {
		return hfTokenSet{}
	}
	return hfTokenSet{trie: newPieceTrie(keys), ids: ids}
}

// longest returns the key index and length of the longest token starting s.
func (ts *hfTokenSet) longest(s string) (idx int32, n int) {
	idx = -1
	node := ts.trie.root[s[0]]
	for i := 1; node >= 0; i++ {
		if id := ts.trie.nodes[node].id; id >= 0 {
			idx, n = id, i
		}
		if i == len(s) {
			break
		}
		node = ts.trie.child(node, s[i])
	}
	return idx, n
}

// addTokens registers the added tokens as tokenizers' add_tokens does when
// it loads a file: the ids in the file are not used; a token gets its id in
// the vocabulary, else the next free one.
func (t *HF) addTokens(b *hfBuilder, raws []json.RawMessage) error {
	if len(raws) > hfMaxAddedTokens {
		return b.bad("added_tokens", "%d tokens (max %d)", len(raws), hfMaxAddedTokens)
	}
	toks := make([]hfAddedToken, len(raws))
	for i, raw := range raws {
		var v struct {
			ID         *int64  `json:"id"`
			Content    *string `json:"content"`
			SingleWord *bool   `json:"single_word"`
			LStrip     *bool   `json:"lstrip"`
			RStrip     *bool   `json:"rstrip"`
			Normalized *bool   `json:"normalized"`
			Special    *bool   `json:"special"`
		}
		path := fmt.Sprintf("added_tokens[%d]", i)
		if err := b.fields(raw, path, &v); err != nil {
			return err
		}
		if v.ID == nil || v.Content == nil {
			return b.missing(path, "id and content")
		}
		if *v.ID < 0 || *v.ID > hfMaxID {
			return b.bad(path, "id %d outside 0..%d", *v.ID, hfMaxID)
		}
		if len(*v.Content) > hfMaxTokenBytes {
			return b.bad(path, "content of %d bytes (max %d)", len(*v.Content), hfMaxTokenBytes)
		}
		tok := hfAddedToken{content: *v.Content, normalized: true}
		for _, f := range []struct {
			src *bool
			dst *bool
		}{{v.SingleWord, &tok.singleWord}, {v.LStrip, &tok.lstrip}, {v.RStrip, &tok.rstrip},
			{v.Normalized, &tok.normalized}, {v.Special, &tok.special}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		toks[i] = tok
	}
	// AddedVocabulary::add_tokens: the special tokens first, then each token
	// not already registered as it is gets the id of its content.
	a := &t.added
	a.ids = make(map[string]int32)
	a.byID = make(map[int32]hfAddedToken)
	var specials, plain []hfAddedToken
	specialSet := make(map[string]bool)
	for _, tok := range toks {
		if tok.special && tok.content != "" && !specialSet[tok.content] {
			specials = append(specials, tok)
			specialSet[tok.content] = true
		}
	}
	maxAdded := int32(-1)
	for i, tok := range toks {
		if tok.content == "" || a.holds(tok) {
			continue
		}
		id, ok := t.TokenID(tok.content)
		if !ok {
			id = int64(t.model.size())
			if maxAdded >= 0 && (int(maxAdded) >= t.model.size() || t.model.size() == 0) {
				id = int64(maxAdded) + 1
			}
			if id > hfMaxID {
				return b.bad(fmt.Sprintf("added_tokens[%d]", i), "no id left for %q", tok.content)
			}
		}
		a.ids[tok.content] = int32(id)
		a.byID[int32(id)] = tok
		maxAdded = max(maxAdded, int32(id))
		if !specialSet[tok.content] {
			plain = append(plain, tok)
		}
	}
	var rawKeys, normKeys []string
	var rawIDs, normIDs []int32
	for _, tok := range append(specials, plain...) {
		id := a.ids[tok.content]
		if !tok.normalized {
			rawKeys, rawIDs = append(rawKeys, tok.content), append(rawIDs, id)
			continue
		}
		key := tok.content
		if t.norm != nil {
			key, _ = t.norm.normalize(key, false, 64*len(key)+4096)
		}
		if key == "" {
			return b.bad("added_tokens", "token %q normalizes to the empty string", tok.content)
		}
		normKeys, normIDs = append(normKeys, key), append(normIDs, id)
	}
	a.raw = newHFTokenSet(rawKeys, rawIDs)
	a.normalized = newHFTokenSet(normKeys, normIDs)
	return nil
}

// holds reports whether tok, settings included, is the current token of an
// id.
func (a *hfAdded) holds(tok hfAddedToken) bool {
	id, ok := a.ids[tok.content]
	return ok && a.byID[id] == tok
}

// split appends the parts of p to dst: the tokens of set found in it (by
// AddedVocabulary::find_matches) and the non-empty text between them.
func (a *hfAdded) split(dst []hfPiece, p hfPiece, set *hfTokenSet) []hfPiece {
	s := p.text
	if set.trie == nil {
		if s != "" {
			dst = append(dst, p)
		}
		return dst
	}
	startOffset := 0
	for i := 0; i < len(s); {
		idx, n := set.longest(s[i:])
		if idx < 0 {
			i++
			continue
		}
		id := set.ids[idx]
		tok := a.byID[id]
		start, stop := i, i+n
		i = stop
		if tok.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.lstrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), startOffset)
		}
		if tok.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if startOffset < start {
			dst = append(dst, hfPiece{text: s[startOffset:start], first: p.first && startOffset == 0, id: -1})
		}
		dst = append(dst, hfPiece{text: s[start:stop], id: id})
		startOffset = stop
	}
	if startOffset < len(s) {
		dst = append(dst, hfPiece{text: s[startOffset:], first: p.first && startOffset == 0, id: -1})
	}
	return dst
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.Is(rustWord, r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(rustWord, r)
}
