package tokenizer

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// spSpace is U+2581 LOWER ONE EIGHTH BLOCK, sentencepiece's escaped space.
const spSpace = "\u2581"

// spMaxRuleMatches is sentencepiece's Normalizer::kMaxTrieResultsSize: of
// the charsmap rules matching a prefix, only the first (shortest) 32 count.
const spMaxRuleMatches = 32

// charsMap is a sentencepiece precompiled_charsmap: a darts-clone double-array
// trie whose keys are UTF-8 sequences and whose values are offsets of
// NUL-terminated replacements in a string blob. Layout: trie size in bytes
// (uint32, little-endian), the trie's 32-bit units, then the blob.
type charsMap struct {
	units []uint32
	blob  []byte
}

func newCharsMap(b []byte) (*charsMap, error) {
	if len(b) <= 4 {
		return nil, fmt.Errorf("%w: precompiled_charsmap of %d bytes is broken", ErrBadSentencePiece, len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) >= uint64(len(b)) {
		return nil, fmt.Errorf("%w: precompiled_charsmap trie size %d exceeds the blob (%d bytes)", ErrBadSentencePiece, n, len(b))
	}
	trie := b[4 : 4+n]
	c := &charsMap{units: make([]uint32, len(trie)/4), blob: append([]byte(nil), b[4+n:]...)}
	for i := range c.units {
		c.units[i] = binary.LittleEndian.Uint32(trie[4*i:])
	}
	return c, nil
}

// longest returns the replacement of the longest rule among the first
// spMaxRuleMatches rules whose key is a prefix of s, and the key's length; 0
// when none matches. It is darts-clone's commonPrefixSearch with index checks.
func (c *charsMap) longest(s []byte) (repl []byte, n int) {
	if len(c.units) == 0 {
		return nil, 0
	}
	id := uint64(unitOffset(c.units[0]))
	value := -1
	for i, found := 0, 0; i < len(s) && found < spMaxRuleMatches; i++ {
		id ^= uint64(s[i])
		if id >= uint64(len(c.units)) {
			break
		}
		u := c.units[id]
		if u&(1<<31|0xFF) != uint32(s[i]) { // label
			break
		}
		id ^= uint64(unitOffset(u))
		if u>>8&1 == 1 { // has_leaf
			if id >= uint64(len(c.units)) {
				break
			}
			value, n = int(c.units[id]&(1<<31-1)), i+1
			found++
		}
	}
	if value < 0 {
		return nil, 0
	}
	if value >= len(c.blob) {
		return []byte{}, n
	}
	r := c.blob[value:]
	for j, b := range r {
		if b == 0 {
			return r[:j], n
		}
	}
	return r, n
}

func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// spNormalizer is sentencepiece's Normalizer: a prefix-wise rewrite by the
// charsmap (user-defined symbols are copied unchanged), optional removal of
// leading, trailing and repeated spaces, and spaces escaped as U+2581.
type spNormalizer struct {
	rules        *charsMap  // nil: no rules
	user         *pieceTrie // user-defined symbols; nil when none
	dummyPrefix  bool
	removeSpaces bool
	escape       bool
	suffix       bool // treat_whitespace_as_suffix
}

// prefix returns the normalized form of the start of s and how many bytes of
// s it consumed (at least 1 for a non-empty s).
func (n *spNormalizer) prefix(s []byte) (repl []byte, consumed int) {
	if n.user != nil {
		if l := n.user.longestPrefix(s); l > 0 {
			return s[:l], l
		}
	}
	if n.rules != nil {
		if repl, l := n.rules.longest(s); l > 0 {
			return repl, l
		}
	}
	if l, ok := spDecodeLen(s); ok {
		return s[:l], l
	}
	return []byte("\uFFFD"), 1
}

// normalize appends the normalized form of s to dst.
func (n *spNormalizer) normalize(dst, s []byte) []byte {
	if n.removeSpaces {
		for len(s) > 0 {
			repl, l := n.prefix(s)
			if string(repl) != " " {
				break
			}
			s = s[l:]
		}
	}
	if len(s) == 0 {
		return dst
	}
	start := len(dst)
	space := " "
	if n.escape {
		space = spSpace
	}
	if n.dummyPrefix && !n.suffix {
		dst = append(dst, space...)
	}
	prevSpace := n.removeSpaces
	for len(s) > 0 {
		repl, l := n.prefix(s)
		s = s[l:]
		for prevSpace && len(repl) > 0 && repl[0] == ' ' {
			repl = repl[1:]
		}
		if len(repl) > 0 {
			for _, c := range repl {
				if c == ' ' && n.escape {
					dst = append(dst, spSpace...)
				} else {
					dst = append(dst, c)
				}
			}
			prevSpace = repl[len(repl)-1] == ' '
		}
		if !n.removeSpaces {
			prevSpace = false
		}
	}
	if n.removeSpaces {
		for len(dst)-start >= len(space) && string(dst[len(dst)-len(space):]) == space {
			dst = dst[:len(dst)-len(space)]
		}
	}
	if n.dummyPrefix && n.suffix {
		dst = append(dst, space...)
	}
	return dst
}

// spDecodeLen is sentencepiece's IsValidDecodeUTF8: the length of the UTF-8
// sequence at the start of s and whether it is valid (U+FFFD itself counts
// as valid).
func spDecodeLen(s []byte) (int, bool) {
	if s[0] < utf8.RuneSelf {
		return 1, true
	}
	r, l := utf8.DecodeRune(s)
	if r == utf8.RuneError && l == 1 {
		return 1, false
	}
	return l, true
}

// spCharLen is sentencepiece's OneCharLen: the length of a UTF-8 sequence by
// its lead byte alone.
func spCharLen(c byte) int {
	switch {
	case c < 0xC0:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	}
	return 4
}
