package tokenizer

import (
	"fmt"
	"math"
)

// sentencePiece is a SentencePiece unigram model ready to encode: the
// normalizer, the trie of the pieces Viterbi may use and their scores. It
// reproduces SentencePieceProcessor.encode(text, out_type=str) followed by
// piece_to_id of each piece. Immutable after construction.
type sentencePiece struct {
	pieces       []spPiece
	trie         *pieceTrie // NORMAL, USER_DEFINED and UNUSED pieces
	reserved     map[string]int32
	scores       []float32
	userDefined  []bool
	unused       []bool
	unkScore     float32
	unkID        int32
	byteFallback bool
	byteIDs      [256]int32 // with byte fallback: id of "<0xBB>"
	norm         spNormalizer
}

// newSentencePiece checks the model as sentencepiece's
// ModelInterface::InitializePieces and unigram Model do, and builds the
// encoder. HF's SiglipTokenizer turns add_dummy_prefix off; noDummyPrefix
// does the same.
func newSentencePiece(m *spModel, noDummyPrefix bool) (*sentencePiece, error) {
	if m.modelType != spModelUnigram {
		return nil, fmt.Errorf("%w: model type %d is not unigram (1)", ErrBadSentencePiece, m.modelType)
	}
	n := len(m.pieces)
	sp := &sentencePiece{
		pieces:       m.pieces,
		reserved:     make(map[string]int32),
		scores:       make([]float32, n),
		userDefined:  make([]bool, n),
		unused:       make([]bool, n),
		unkID:        -1,
		byteFallback: m.byteFallback,
	}
	keys := make([]string, n)
	inTrie := make(map[string]bool, n)
	var users []string
	var byteFound [256]bool
	minScore := float32(math.MaxFloat32) // of NORMAL pieces; NaN scores are passed over, as by std::min
	for i, p := range m.pieces {
		if p.piece == "" {
			return nil, fmt.Errorf("%w: piece %d is empty", ErrBadSentencePiece, i)
		}
		sp.scores[i] = p.score
		switch p.typ {
		case spNormal, spUserDefined, spUnused:
			if inTrie[p.piece] {
				return nil, fmt.Errorf("%w: piece %q (%d) is already defined", ErrBadSentencePiece, p.piece, i)
			}
			inTrie[p.piece] = true
			keys[i] = p.piece
			sp.userDefined[i] = p.typ == spUserDefined
			sp.unused[i] = p.typ == spUnused
			if p.typ == spUserDefined {
				users = append(users, p.piece)
			}
			if p.typ == spNormal {
				if p.score < minScore {
					minScore = p.score
				}
			}
		default:
			if _, dup := sp.reserved[p.piece]; dup {
				return nil, fmt.Errorf("%w: piece %q (%d) is already defined", ErrBadSentencePiece, p.piece, i)
			}
			sp.reserved[p.piece] = int32(i)
		}
		switch p.typ {
		case spUnknown:
			if sp.unkID >= 0 {
				return nil, fmt.Errorf("%w: unk is already defined (pieces %d and %d)", ErrBadSentencePiece, sp.unkID, i)
			}
			sp.unkID = int32(i)
		case spByte:
			if !m.byteFallback {
				return nil, fmt.Errorf("%w: byte piece %q although byte_fallback is false", ErrBadSentencePiece, p.piece)
			}
			b := byteOfPiece(p.piece)
			if b < 0 {
				return nil, fmt.Errorf("%w: byte piece %q is invalid", ErrBadSentencePiece, p.piece)
			}
			byteFound[b] = true
			sp.byteIDs[b] = int32(i)
		}
	}
	if sp.unkID < 0 {
		return nil, fmt.Errorf("%w: unk is not defined", ErrBadSentencePiece)
	}
	if m.byteFallback {
		for b, ok := range byteFound {
			if !ok {
				return nil, fmt.Errorf("%w: byte_fallback without the byte piece <0x%02X>", ErrBadSentencePiece, b)
			}
		}
	}
	if len(inTrie) == 0 {
		return nil, fmt.Errorf("%w: no normal, user-defined or unused piece", ErrBadSentencePiece)
	}
	sp.trie = newPieceTrie(keys)
	sp.unkScore = minScore - spKUnkPenalty
	sp.norm = spNormalizer{
		dummyPrefix:  m.addDummyPrefix && !noDummyPrefix,
		removeSpaces: m.removeExtraSpaces,
		escape:       m.escapeWhitespaces,
		suffix:       m.whitespaceAsSuffix,
	}
	if len(m.charsmap) > 0 {
		c, err := newCharsMap(m.charsmap)
		if err != nil {
			return nil, err
		}
		sp.norm.rules = c
	}
	if len(users) > 0 {
		sp.norm.user = newPieceTrie(users)
	}
	return sp, nil
}

// spScratch is the per-call working memory of encoding.
type spScratch struct {
	norm []byte
	bp   []bestPath
	path []spToken
}

// encode appends the pieces of text to toks; the normalized text they refer
// to is left in sc.norm.
func (sp *sentencePiece) encode(toks []spToken, text []byte, sc *spScratch) []spToken {
	sc.norm = sp.norm.normalize(sc.norm[:0], text)
	toks, sc.bp, sc.path = sp.viterbi(toks, sc.norm, sc.bp, sc.path)
	return toks
}

// tokenString returns the piece string of t (norm: the normalized text).
func (sp *sentencePiece) tokenString(t spToken, norm []byte) string {
	switch t.kind {
	case spTokPiece:
		return sp.pieces[t.id].piece
	case spTokByte:
		return sp.pieces[sp.byteIDs[t.b]].piece
	}
	return string(norm[t.lo:t.hi])
}
