package tokenizer

import (
	"encoding/json"
	"fmt"
)

// hfPost is a post-processor: it appends the encoding of body, special
// tokens added, to dst.
type hfPost interface {
	apply(dst, body []int32) []int32
	added() int
	maxID() int32
}

// hfTemplate is a single-sequence template: fixed ids around the text's.
type hfTemplate struct {
	pieces [][]int32 // nil: the sequence
	n      int
}

func (t *hfTemplate) apply(dst, body []int32) []int32 {
	for _, p := range t.pieces {
		if p == nil {
			dst = append(dst, body...)
		} else {
			dst = append(dst, p...)
		}
	}
	return dst
}

func (t *hfTemplate) added() int { return t.n }

func (t *hfTemplate) maxID() int32 {
	m := int32(-1)
	for _, p := range t.pieces {
		for _, id := range p {
			m = max(m, id)
		}
	}
	return m
}

type hfPostSequence []hfPost

func (q hfPostSequence) apply(dst, body []int32) []int32 {
	cur := body
	for _, p := range q {
		cur = p.apply(nil, cur)
	}
	return append(dst, cur...)
}

func (q hfPostSequence) added() int {
	n := 0
	for _, p := range q {
		n += p.added()
	}
	return n
}

func (q hfPostSequence) maxID() int32 {
	m := int32(-1)
	for _, p := range q {
		m = max(m, p.maxID())
	}
	return m
}

func (b *hfBuilder) parsePost(raw json.RawMessage, path string, depth int) (hfPost, error) {
	typ, err := b.component(raw, path, depth)
	if err != nil || typ == "" {
		return nil, err
	}
	switch typ {
	case "Sequence":
		seq, err := parseSequence(b, raw, path, "processors", depth, b.parsePost)
		return hfPostSequence(seq), err
	case "ByteLevel":
		return &hfTemplate{pieces: [][]int32{nil}}, nil
	case "BertProcessing", "RobertaProcessing":
		var v struct {
			Sep *[]json.RawMessage `json:"sep"`
			CLS *[]json.RawMessage `json:"cls"`
		}
		if err := b.fields(raw, path, &v); err != nil {
			return nil, err
		}
		if v.Sep == nil || v.CLS == nil {
			return nil, b.missing(path, "sep and cls")
		}
		sep, err := b.tokenPair(*v.Sep, path+".sep")
		if err != nil {
			return nil, err
		}
		cls, err := b.tokenPair(*v.CLS, path+".cls")
		if err != nil {
			return nil, err
		}
		return &hfTemplate{pieces: [][]int32{{cls}, nil, {sep}}, n: 2}, nil
	case "TemplateProcessing":
		return b.parseTemplate(raw, path)
	}
	return nil, b.unsupported(path, typ)
}

// tokenPair reads a ["token", id] pair and returns the id.
func (b *hfBuilder) tokenPair(items []json.RawMessage, path string) (int32, error) {
	var tok string
	var id int64
	if len(items) != 2 || json.Unmarshal(items[0], &tok) != nil || json.Unmarshal(items[1], &id) != nil {
		return 0, b.bad(path, "want a [token, id] pair")
	}
	if id < 0 || id > hfMaxID {
		return 0, b.bad(path, "id %d outside 0..%d", id, hfMaxID)
	}
	return int32(id), nil
}

func (b *hfBuilder) parseTemplate(raw json.RawMessage, path string) (hfPost, error) {
	type piece struct {
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	}
	var v struct {
		Single        *[]piece `json:"single"`
		SpecialTokens *map[string]struct {
			IDs    []int64  `json:"ids"`
			Tokens []string `json:"tokens"`
		} `json:"special_tokens"`
	}
	if err := b.fields(raw, path, &v); err != nil {
		return nil, err
	}
	if v.Single == nil || v.SpecialTokens == nil {
		return nil, b.missing(path, "single and special_tokens")
	}
	if len(*v.Single) > hfMaxTemplate {
		return nil, b.bad(path, "template of %d pieces (max %d)", len(*v.Single), hfMaxTemplate)
	}
	t := &hfTemplate{}
	for i, p := range *v.Single {
		switch {
		case p.Sequence != nil && p.SpecialToken == nil:
			if p.Sequence.ID != "A" {
				return nil, fmt.Errorf("%w: %s: single template piece %d is sequence %q (only A exists)", ErrUnsupportedHFJSON, path, i, p.Sequence.ID)
			}
			t.pieces = append(t.pieces, nil)
		case p.SpecialToken != nil && p.Sequence == nil:
			st, ok := (*v.SpecialTokens)[p.SpecialToken.ID]
			if !ok {
				return nil, b.bad(path, "special token %q of the single template is not in special_tokens", p.SpecialToken.ID)
			}
			if len(st.IDs) > hfMaxTemplate || len(st.IDs) != len(st.Tokens) {
				return nil, b.bad(path, "special token %q: ids and tokens of different lengths or too many", p.SpecialToken.ID)
			}
			ids := make([]int32, 0, len(st.IDs))
			for _, id := range st.IDs {
				if id < 0 || id > hfMaxID {
					return nil, b.bad(path, "special token %q: id %d outside 0..%d", p.SpecialToken.ID, id, hfMaxID)
				}
				ids = append(ids, int32(id))
			}
			t.pieces = append(t.pieces, ids)
			t.n += len(ids)
		default:
			return nil, b.bad(path, "single template piece %d is neither Sequence nor SpecialToken", i)
		}
	}
	return t, nil
}
