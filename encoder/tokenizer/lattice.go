package tokenizer

import (
	"slices"
	"strings"
)

// pieceTrie maps byte strings to ids; it answers "which keys are prefixes of
// s" in one walk. Children of a node are a sorted run of (label, node) edges;
// the root's children are a direct table.
type pieceTrie struct {
	root   [256]int32 // node of each first byte, -1 when none
	nodes  []trieNode
	labels []byte  // edge labels, sorted within each node's run
	next   []int32 // edge targets
}

type trieNode struct {
	lo, hi int32 // the node's edges are labels[lo:hi], next[lo:hi]
	id     int32 // id of the key ending here, -1 when none
}

// newPieceTrie builds a trie of keys, whose ids are their indexes; empty keys
// are skipped and the first of duplicate keys wins.
func newPieceTrie(keys []string) *pieceTrie {
	order := make([]int32, 0, len(keys))
	for i, k := range keys {
		if k != "" {
			order = append(order, int32(i))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(keys[a], keys[b]) })
	t := &pieceTrie{}
	for i := range t.root {
		t.root[i] = -1
	}
	// Sorted keys let the trie be built depth-first: a node's children are
	// the distinct next bytes of a contiguous range of keys.
	var build func(lo, hi, depth int) int32
	build = func(lo, hi, depth int) int32 {
		n := int32(len(t.nodes))
		t.nodes = append(t.nodes, trieNode{id: -1})
		if len(keys[order[lo]]) == depth {
			t.nodes[n].id = order[lo]
			lo++
			for lo < hi && len(keys[order[lo]]) == depth {
				lo++ // duplicate
			}
		}
		type child struct {
			label  byte
			lo, hi int
		}
		var kids []child
		for i := lo; i < hi; {
			c := keys[order[i]][depth]
			j := i + 1
			for j < hi && keys[order[j]][depth] == c {
				j++
			}
			kids = append(kids, child{c, i, j})
			i = j
		}
		first := int32(len(t.labels))
		for _, k := range kids {
			t.labels = append(t.labels, k.label)
			t.next = append(t.next, -1)
		}
		t.nodes[n].lo, t.nodes[n].hi = first, first+int32(len(kids))
		for i, k := range kids {
			t.next[int(first)+i] = build(k.lo, k.hi, depth+1)
		}
		return n
	}
	if len(order) > 0 {
		rootNode := build(0, len(order), 0)
		r := t.nodes[rootNode]
		for e := r.lo; e < r.hi; e++ {
			t.root[t.labels[e]] = t.next[e]
		}
	}
	return t
}

// child returns the child of node n by label c, or -1.
func (t *pieceTrie) child(n int32, c byte) int32 {
	nd := &t.nodes[n]
	lo, hi := nd.lo, nd.hi
	for end := hi; end-lo > 8; { // lower bound of c in [lo, hi)
		mid := int32(uint32(lo+end) >> 1)
		if t.labels[mid] < c {
			lo = mid + 1
		} else {
			end = mid
		}
	}
	for ; lo < hi; lo++ {
		if l := t.labels[lo]; l >= c {
			if l == c {
				return t.next[lo]
			}
			return -1
		}
	}
	return -1
}

// lookup returns the id of key s, or -1.
func (t *pieceTrie) lookup(s []byte) int32 {
	if len(s) == 0 {
		return -1
	}
	n := t.root[s[0]]
	for i := 1; n >= 0 && i < len(s); i++ {
		n = t.child(n, s[i])
	}
	if n < 0 {
		return -1
	}
	return t.nodes[n].id
}

// longestPrefix returns the length of the longest key that is a prefix of s,
// or 0.
func (t *pieceTrie) longestPrefix(s []byte) int {
	best := 0
	if len(s) == 0 {
		return 0
	}
	n := t.root[s[0]]
	for i := 1; n >= 0; i++ {
		if t.nodes[n].id >= 0 {
			best = i
		}
		if i == len(s) {
			break
		}
		n = t.child(n, s[i])
	}
	return best
}

// spKUnkPenalty is sentencepiece's kUnkPenalty: an unknown character scores
// the lowest piece score minus 10.
const spKUnkPenalty = 10.0

// spRenormBound: when the score of the best path to the current position
// leaves [-spRenormBound, spRenormBound], sentencepiece 0.2.3 subtracts it
// from every path score computed so far, so that float32 keeps its
// precision on long texts.
const spRenormBound = 1e5

// bestPath is one entry of the Viterbi table: the best segmentation of the
// normalized text up to a byte position ends with piece id starting at start.
type bestPath struct {
	score float32
	start int32 // -1: not reached yet
	id    int32
}

// spToken is one piece of an encoded text: a vocabulary piece, a run of
// unknown characters (the bytes norm[lo:hi]) or, with byte fallback, one
// byte of an unknown character.
type spToken struct {
	kind   uint8 // spTokPiece, spTokUnk or spTokByte
	b      byte  // spTokByte: the byte
	id     int32 // spTokPiece: the piece
	lo, hi int32 // spTokUnk: the normalized bytes
}

const (
	spTokPiece = iota
	spTokUnk
	spTokByte
)

// viterbi appends to toks the pieces of the normalized text norm, as
// sentencepiece 0.2.3's unigram Model::EncodeOptimized finds them followed
// by SentencePieceProcessor::PopulateSentencePieceText: runs of unknown
// characters become one piece, or one piece per byte with byte fallback.
// bp and path are scratch space, returned for reuse.
//
// The arithmetic is the library's, as compiled in its 0.2.3 release (read
// from the machine code of the PyPI wheel; 0.2.1's source differs): path
// scores are float32 sums, renormalized beyond spRenormBound; a
// user-defined piece scores float32((length in bytes - 1) * 0.1); a
// candidate replaces the best path to its end only when strictly better, so
// of tied paths the one whose last piece starts first wins.
func (sp *sentencePiece) viterbi(toks []spToken, norm []byte, bp []bestPath, path []spToken) ([]spToken, []bestPath, []spToken) {
	n := len(norm)
	if n == 0 {
		return toks, bp, path
	}
	bp = slices.Grow(bp[:0], n+1)[:n+1]
	for i := range bp {
		bp[i] = bestPath{start: -1, id: -1}
	}
	reached := 0 // the furthest end of a candidate so far
	for s := 0; s < n; {
		till := bp[s].score
		if till < -spRenormBound || till > spRenormBound {
			for i := s; i <= reached; i++ {
				if i == s || bp[i].start >= 0 {
					bp[i].score -= till
				}
			}
			till = 0
		}
		mblen := min(spCharLen(norm[s]), n-s)
		single := false
		node := sp.trie.root[norm[s]]
		for k := s + 1; node >= 0; k++ {
			if id := sp.trie.nodes[node].id; id >= 0 && !sp.unused[id] {
				length := k - s
				score := sp.scores[id]
				if sp.userDefined[id] {
					score = float32(float64(length-1) * 0.1)
				}
				cand := score + till
				reached = max(reached, k)
				if t := &bp[k]; t.start < 0 || cand > t.score {
					t.score, t.start, t.id = cand, int32(s), id
				}
				if length == mblen {
					single = true
				}
			}
			if k == n {
				break
			}
			node = sp.trie.child(node, norm[k])
		}
		if !single {
			cand := till + sp.unkScore
			if t := &bp[s+mblen]; t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, int32(s), sp.unkID
			}
			reached = max(reached, s+mblen)
		}
		s += mblen
	}
	path = path[:0]
	for end := n; end > 0; {
		p := bp[end]
		if p.id == sp.unkID {
			path = append(path, spToken{kind: spTokUnk, lo: p.start, hi: int32(end)})
		} else {
			path = append(path, spToken{kind: spTokPiece, id: p.id})
		}
		end = int(p.start)
	}
	prevUnk := false
	for i := len(path) - 1; i >= 0; i-- {
		t := path[i]
		isUnk := t.kind == spTokUnk
		switch {
		case isUnk && sp.byteFallback:
			for _, c := range norm[t.lo:t.hi] {
				toks = append(toks, spToken{kind: spTokByte, b: c})
			}
		case isUnk && prevUnk:
			toks[len(toks)-1].hi = t.hi
		default:
			toks = append(toks, t)
		}
		prevUnk = isUnk
	}
	return toks, bp, path
}
