package tokenizer

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/rangetable"
)

// The patterns of tokenizer.json (Split and Replace "Regex") are compiled by
// the tokenizers package with Oniguruma 6.9 (Ruby syntax, Unicode 14.0
// data), a backtracking engine whose syntax and classes differ from Go's
// regexp: \s, \d and \w are Unicode classes, "(?i)" folds case (multi-
// character folds included) and takes in the alternatives after it,
// "x{2}?" means "(?:x{2})?", and lookahead is allowed. hfRegexp reproduces
// Oniguruma's leftmost-first matches for the subset of its syntax tokenizer
// files use, in time linear in the text:
//
//   - literals, escapes (\t \n \r \f \v \a \e \xHH \x{H…} \uHHHH and escaped
//     punctuation), "." (any character but \n);
//   - classes [...] with ranges and negation, \s \S \d \D \w \W, \p{…} \P{…}
//     \p{^…} (general categories, scripts, Alphabetic, White_Space);
//   - groups (…) (?:…) (?<name>…), the flag groups (?i) (?i:…) (?-i…);
//   - quantifiers * + ? {n} {n,} {n,m} {,m}, greedy or lazy;
//   - lookahead (?=…) and (?!…) whose body matches exactly one character,
//     such as GPT-2's \s+(?!\S).
//
// Anything else (anchors, lookbehind, backreferences, atomic groups,
// possessive or stacked quantifiers, nested classes, \h, \R,
// case-insensitive non-ASCII literals, literal pairs Oniguruma would match
// against one character's multi-character case folding such as "ss" against
// "ß", and unbounded repeats of what can match the empty string, where
// Oniguruma's empty-loop check differs from any linear-time matcher) is
// refused with an error rather than matched differently. So are patterns
// that can match the empty string, whose empty matches tokenizers splits in
// its own way. Checked against Oniguruma on tens of thousands of random
// patterns and texts (tools/tests/test_hf_tokenizer.py).

// Bounds on untrusted patterns.
const (
	hfMaxPatternBytes = 4 << 10
	hfMaxRegexInsts   = 2 << 10
	hfMaxRepeat       = 1000
)

// reClass is a set of runes: the union of ranges, of tables and of the
// complements of notTables, complemented when neg.
type reClass struct {
	neg       bool
	ranges    []rune // lo, hi pairs
	tables    []*unicode.RangeTable
	notTables []*unicode.RangeTable
}

func (c *reClass) has(r rune) bool {
	in := false
	for i := 0; i+1 < len(c.ranges); i += 2 {
		if r >= c.ranges[i] && r <= c.ranges[i+1] {
			in = true
			break
		}
	}
	if !in {
		for _, t := range c.tables {
			if onigIs(t, r) {
				in = true
				break
			}
		}
	}
	if !in {
		for _, t := range c.notTables {
			if !onigIs(t, r) {
				in = true
				break
			}
		}
	}
	return in != c.neg
}

// onigIs reports whether r is in the property table t as Oniguruma's
// Unicode 14.0 data has it: characters assigned since are in no property.
func onigIs(t *unicode.RangeTable, r rune) bool {
	return unicode.Is(t, r) && (r < 0x0cf3 || !unicode.Is(onigNewer, r))
}

// addRune adds r, and with fold the other runes of its simple case-folding
// orbit.
func (c *reClass) addRune(r rune, fold bool) {
	c.ranges = append(c.ranges, r, r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			c.ranges = append(c.ranges, f, f)
		}
	}
}

// Oniguruma's Unicode classes: \s is White_Space, \d Nd, \w Alphabetic,
// M, Nd and Pc, plus the Latin-1 digits and fractions its Latin-1 table
// counts as word characters (² ³ ¹ ¼ ½ ¾).
var (
	onigSpace = unicode.White_Space
	onigDigit = unicode.Nd
	onigWord  = rangetable.Merge(unicode.L, unicode.Nl, unicode.Other_Alphabetic, unicode.M, unicode.Nd, unicode.Pc,
		rangetable.New(0xb2, 0xb3, 0xb9, 0xbc, 0xbd, 0xbe))
	onigAlpha = sync.OnceValue(func() *unicode.RangeTable {
		// Alphabetic as Unicode 14.0 has it: five marks became Alphabetic in 15.0.
		var rs []rune
		rangetable.Visit(rangetable.Merge(unicode.L, unicode.Nl, unicode.Other_Alphabetic), func(r rune) {
			switch r {
			case 0x0c04, 0x0f82, 0x0f83, 0x11080, 0x11081:
			default:
				rs = append(rs, r)
			}
		})
		return rangetable.New(rs...)
	})
)

type reKind uint8

const (
	reLit    reKind = iota // one character of cls
	reCat                  // subs in sequence
	reAlt                  // one of subs, the first preferred
	reRepeat               // subs[0] min..max times (max < 0: unbounded)
	reLook                 // lookahead: the next character is (or with neg is not) one of subs[0]
	reFlags                // a (?i) group while parsing; neg holds the new case-insensitivity
)

type reNode struct {
	kind     reKind
	cls      *reClass
	subs     []*reNode
	min, max int
	lazy     bool
	neg      bool
}

// reParser parses an Oniguruma pattern into a reNode tree.
type reParser struct {
	src string
	pos int
}

func (p *reParser) errorf(format string, args ...any) error {
	return fmt.Errorf("regex %q at offset %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *reParser) eof() bool { return p.pos >= len(p.src) }

func (p *reParser) peek() rune {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func (p *reParser) next() rune {
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += size
	return r
}

// parseAlt parses alternatives up to ')' or the end; *fold is the
// case-insensitivity flag, which (?i) may change for the rest of the group.
func (p *reParser) parseAlt(fold *bool, depth int) (*reNode, error) {
	if depth > 64 {
		return nil, p.errorf("groups nested too deeply")
	}
	var alts []*reNode
	for {
		cat, err := p.parseCat(fold, depth)
		if err != nil {
			return nil, err
		}
		alts = append(alts, cat)
		if p.eof() || p.peek() != '|' {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &reNode{kind: reAlt, subs: alts}, nil
}

func (p *reParser) parseCat(fold *bool, depth int) (*reNode, error) {
	cat := &reNode{kind: reCat}
	for !p.eof() {
		switch p.peek() {
		case '|', ')':
			return cat, p.checkFolds(cat, *fold)
		}
		atom, err := p.parseAtom(fold, depth)
		if err != nil {
			return nil, err
		}
		if atom.kind == reFlags {
			// As in Oniguruma's Ruby syntax, a(?i)b|c is a(?i:b|c): the
			// flags apply to the rest of the enclosing group, whose
			// alternatives they take in.
			inner := atom.neg
			rest, err := p.parseAlt(&inner, depth+1)
			if err != nil {
				return nil, err
			}
			cat.subs = append(cat.subs, rest)
			return cat, p.checkFolds(cat, *fold)
		}
		atom, err = p.parseQuantifier(atom)
		if err != nil {
			return nil, err
		}
		cat.subs = append(cat.subs, atom)
	}
	return cat, p.checkFolds(cat, *fold)
}

// checkFolds refuses consecutive case-insensitive literals Oniguruma would
// also match against a single character whose full case folding they
// spell ("ss" and "ß", "st" and "ﬆ", "ff", "fi", "fl").
func (p *reParser) checkFolds(cat *reNode, fold bool) error {
	if !fold {
		return nil
	}
	for i := 0; i+1 < len(cat.subs); i++ {
		a, b := literalRune(cat.subs[i]), literalRune(cat.subs[i+1])
		if a < 0 || b < 0 {
			continue
		}
		pair := string([]rune{unicode.ToLower(a), unicode.ToLower(b)})
		switch pair {
		case "ss", "st", "ff", "fi", "fl":
			return p.errorf("case-insensitive %q may match one character's multi-character case folding, which is not supported", pair)
		}
	}
	return nil
}

// literalRune returns the rune an (?i) literal node was made from, or -1.
func literalRune(n *reNode) rune {
	if n.kind != reLit || n.cls.neg || len(n.cls.tables)+len(n.cls.notTables) > 0 || len(n.cls.ranges) == 0 {
		return -1
	}
	if n.cls.ranges[0] != n.cls.ranges[1] {
		return -1
	}
	return n.cls.ranges[0]
}

func (p *reParser) parseAtom(fold *bool, depth int) (*reNode, error) {
	start := p.pos
	r := p.next()
	switch r {
	case '(':
		return p.parseGroup(fold, depth)
	case '.':
		return &reNode{kind: reLit, cls: &reClass{neg: true, ranges: []rune{'\n', '\n'}}}, nil
	case '[':
		cls, err := p.parseClass(*fold)
		if err != nil {
			return nil, err
		}
		return &reNode{kind: reLit, cls: cls}, nil
	case '\\':
		return p.parseEscape(*fold)
	case '^', '$':
		p.pos = start
		return nil, p.errorf("anchor %q is not supported", r)
	case '*', '+', '?':
		p.pos = start
		return nil, p.errorf("quantifier %q has nothing to repeat", r)
	}
	if r == utf8.RuneError && p.pos-start == 1 {
		p.pos = start
		return nil, p.errorf("invalid UTF-8")
	}
	return p.literal(r, *fold)
}

func (p *reParser) literal(r rune, fold bool) (*reNode, error) {
	if fold && r >= utf8.RuneSelf {
		return nil, p.errorf("case-insensitive non-ASCII literal %q is not supported", r)
	}
	c := &reClass{}
	c.addRune(r, fold)
	return &reNode{kind: reLit, cls: c}, nil
}

func (p *reParser) parseGroup(fold *bool, depth int) (*reNode, error) {
	inner := *fold
	look, neg := false, false
	if !p.eof() && p.peek() == '?' {
		p.pos++
		if p.eof() {
			return nil, p.errorf("unterminated group")
		}
		switch c := p.next(); c {
		case ':':
		case '=':
			look = true
		case '!':
			look, neg = true, true
		case '<':
			if !p.eof() && (p.peek() == '=' || p.peek() == '!') {
				return nil, p.errorf("lookbehind is not supported")
			}
			end := strings.IndexByte(p.src[p.pos:], '>')
			if end <= 0 {
				return nil, p.errorf("bad group name")
			}
			for _, c := range p.src[p.pos : p.pos+end] {
				if !(c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c)) {
					return nil, p.errorf("bad group name")
				}
			}
			p.pos += end + 1
		case 'i', '-':
			p.pos--
			on := true
			for !p.eof() {
				switch f := p.next(); f {
				case 'i':
					inner = on
				case '-':
					on = false
				case ')': // (?i): the rest of the enclosing group
					return &reNode{kind: reFlags, neg: inner}, nil
				case ':':
					goto body
				default:
					return nil, p.errorf("flag %q is not supported", f)
				}
			}
			return nil, p.errorf("unterminated group")
		default:
			return nil, p.errorf("group (?%c is not supported", c)
		}
	}
body:
	n, err := p.parseAlt(&inner, depth+1)
	if err != nil {
		return nil, err
	}
	if p.eof() || p.peek() != ')' {
		return nil, p.errorf("missing )")
	}
	p.pos++
	if look {
		if !singleChar(n) {
			return nil, p.errorf("lookahead must match exactly one character")
		}
		return &reNode{kind: reLook, subs: []*reNode{n}, neg: neg}, nil
	}
	return n, nil
}

// singleChar reports whether every match of n is exactly one character.
func singleChar(n *reNode) bool {
	switch n.kind {
	case reLit:
		return true
	case reCat:
		return len(n.subs) == 1 && singleChar(n.subs[0])
	case reAlt:
		for _, s := range n.subs {
			if !singleChar(s) {
				return false
			}
		}
		return true
	case reRepeat:
		return n.min == 1 && n.max == 1 && singleChar(n.subs[0])
	}
	return false
}

// matchOne reports whether the one-character node n matches r.
func matchOne(n *reNode, r rune) bool {
	switch n.kind {
	case reLit:
		return n.cls.has(r)
	case reCat, reRepeat:
		return matchOne(n.subs[0], r)
	case reAlt:
		for _, s := range n.subs {
			if matchOne(s, r) {
				return true
			}
		}
	}
	return false
}

func (p *reParser) parseQuantifier(atom *reNode) (*reNode, error) {
	if p.eof() {
		return atom, nil
	}
	start := p.pos
	min, max := 0, 0
	switch p.peek() {
	case '*':
		p.pos++
		min, max = 0, -1
	case '+':
		p.pos++
		min, max = 1, -1
	case '?':
		p.pos++
		min, max = 0, 1
	case '{':
		lo, hi, n, ok := parseInterval(p.src[p.pos:])
		if !ok {
			return atom, nil // a literal '{', as in Oniguruma
		}
		if lo > hfMaxRepeat || hi > hfMaxRepeat {
			return nil, p.errorf("repeat count above %d", hfMaxRepeat)
		}
		if hi >= 0 && hi < lo {
			return nil, p.errorf("repeat {%d,%d} has max below min", lo, hi)
		}
		p.pos += n
		min, max = lo, hi
	default:
		return atom, nil
	}
	if atom.kind == reLook {
		p.pos = start
		return nil, p.errorf("quantified lookahead is not supported")
	}
	if max < 0 && nullable(atom) {
		// Oniguruma ends a loop at an iteration that matched the empty
		// string; the Pike VM cannot follow that exactly.
		p.pos = start
		return nil, p.errorf("an unbounded repeat of what can match the empty string is not supported")
	}
	lazy, exact := false, p.src[start] == '{' && !strings.Contains(p.src[start:p.pos], ",")
	if !p.eof() {
		switch p.peek() {
		case '?':
			p.pos++
			if exact {
				// Oniguruma's x{n}? is (?:x{n})?, not a lazy x{n}.
				atom = &reNode{kind: reRepeat, subs: []*reNode{atom}, min: min, max: max}
				min, max = 0, 1
			} else {
				lazy = true
			}
		case '+':
			return nil, p.errorf("possessive quantifier is not supported")
		}
	}
	if !p.eof() {
		switch p.peek() {
		case '*', '+', '?':
			return nil, p.errorf("repeated quantifier is not supported")
		case '{':
			if _, _, _, ok := parseInterval(p.src[p.pos:]); ok {
				return nil, p.errorf("repeated quantifier is not supported")
			}
		}
	}
	return &reNode{kind: reRepeat, subs: []*reNode{atom}, min: min, max: max, lazy: lazy}, nil
}

// parseInterval parses {n}, {n,}, {n,m} or {,m} at the start of s: the
// bounds (hi -1: unbounded), its length, and false when s does not start
// with one.
func parseInterval(s string) (lo, hi, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 || end > 24 {
		return 0, 0, 0, false
	}
	body := s[1:end]
	num := func(t string) (int, bool) {
		if t == "" || len(t) > 9 {
			return 0, false
		}
		for _, c := range t {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		v, _ := strconv.Atoi(t)
		return v, true
	}
	a, b, comma := strings.Cut(body, ",")
	switch {
	case !comma:
		v, ok := num(a)
		return v, v, end + 1, ok
	case a == "" && b == "":
		return 0, 0, 0, false
	case a == "":
		v, ok := num(b)
		return 0, v, end + 1, ok
	case b == "":
		v, ok := num(a)
		return v, -1, end + 1, ok
	}
	x, ok1 := num(a)
	y, ok2 := num(b)
	return x, y, end + 1, ok1 && ok2
}

// parseEscape parses the escape after a backslash outside a class.
func (p *reParser) parseEscape(fold bool) (*reNode, error) {
	c, r, err := p.escape(fold)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return &reNode{kind: reLit, cls: c}, nil
	}
	return p.literal(r, fold)
}

// escape parses the escape after a backslash: a class (shorthand or
// property) or a literal rune.
func (p *reParser) escape(fold bool) (*reClass, rune, error) {
	if p.eof() {
		return nil, 0, p.errorf("trailing backslash")
	}
	start := p.pos - 1
	c := p.next()
	switch c {
	case 't':
		return nil, '\t', nil
	case 'n':
		return nil, '\n', nil
	case 'r':
		return nil, '\r', nil
	case 'f':
		return nil, '\f', nil
	case 'v':
		return nil, '\v', nil
	case 'a':
		return nil, 7, nil
	case 'e':
		return nil, 0x1b, nil
	case 'x':
		if !p.eof() && p.peek() == '{' {
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 2 || end > 9 {
				return nil, 0, p.errorf("bad \\x{...} escape")
			}
			v, err := strconv.ParseUint(p.src[p.pos+1:p.pos+end], 16, 32)
			if err != nil || v > unicode.MaxRune || v >= 0xD800 && v <= 0xDFFF {
				return nil, 0, p.errorf("bad \\x{...} escape")
			}
			p.pos += end + 1
			return nil, rune(v), nil
		}
		n := 0
		for n < 2 && p.pos+n < len(p.src) && isHex(p.src[p.pos+n]) {
			n++
		}
		if n == 0 {
			return nil, 0, p.errorf("bad \\x escape")
		}
		v, _ := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 8)
		p.pos += n
		if v >= 0x80 {
			return nil, 0, p.errorf("\\x%02X is a raw byte, not a character", v)
		}
		return nil, rune(v), nil
	case 'u':
		if p.pos+4 > len(p.src) {
			return nil, 0, p.errorf("bad \\u escape")
		}
		for i := 0; i < 4; i++ {
			if !isHex(p.src[p.pos+i]) {
				return nil, 0, p.errorf("bad \\u escape")
			}
		}
		v, _ := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
		p.pos += 4
		if v >= 0xD800 && v <= 0xDFFF {
			return nil, 0, p.errorf("surrogate \\u%04X", v)
		}
		return nil, rune(v), nil
	case 's':
		return &reClass{tables: []*unicode.RangeTable{onigSpace}}, 0, nil
	case 'S':
		return &reClass{neg: true, tables: []*unicode.RangeTable{onigSpace}}, 0, nil
	case 'd':
		return &reClass{tables: []*unicode.RangeTable{onigDigit}}, 0, nil
	case 'D':
		return &reClass{neg: true, tables: []*unicode.RangeTable{onigDigit}}, 0, nil
	case 'w':
		return &reClass{tables: []*unicode.RangeTable{onigWord}}, 0, nil
	case 'W':
		return &reClass{neg: true, tables: []*unicode.RangeTable{onigWord}}, 0, nil
	case 'p', 'P':
		t, neg, err := p.property(fold)
		if err != nil {
			return nil, 0, err
		}
		return &reClass{neg: neg != (c == 'P'), tables: []*unicode.RangeTable{t}}, 0, nil
	}
	if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
		p.pos = start
		return nil, 0, p.errorf("escape \\%c is not supported", c)
	}
	return nil, c, nil // escaped punctuation or other character
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// property parses {Name} or {^Name} after \p or \P.
func (p *reParser) property(fold bool) (*unicode.RangeTable, bool, error) {
	if p.eof() || p.peek() != '{' {
		return nil, false, p.errorf("\\p needs {Name}")
	}
	end := strings.IndexByte(p.src[p.pos:], '}')
	if end < 0 {
		return nil, false, p.errorf("unterminated \\p{")
	}
	name := p.src[p.pos+1 : p.pos+end]
	p.pos += end + 1
	neg := false
	if rest, ok := strings.CutPrefix(name, "^"); ok {
		name, neg = rest, true
	}
	t := onigProperty(name)
	if t == nil {
		return nil, false, p.errorf("unknown or unsupported property %q", name)
	}
	if fold {
		switch t {
		case unicode.Lu, unicode.Ll, unicode.Lt:
			return nil, false, p.errorf("case-insensitive \\p{%s} is not supported", name)
		}
	}
	return t, neg, nil
}

// onigProperty returns the table of a property name as Oniguruma spells it
// (case, spaces, '_' and '-' ignored): a general category by short or long
// name, a script, Alphabetic or White_Space; nil when unknown.
func onigProperty(name string) *unicode.RangeTable {
	key := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-':
			return -1
		}
		return unicode.ToLower(r)
	}, name)
	switch key {
	case "alphabetic", "alpha":
		return onigAlpha()
	case "whitespace", "space":
		return unicode.White_Space
	case "any", "assigned", "cn", "unassigned", "cs", "surrogate":
		return nil
	}
	if long, ok := onigCategoryNames[key]; ok {
		key = long
	}
	for cat, t := range unicode.Categories {
		if strings.ToLower(cat) == key {
			return t
		}
	}
	for script, t := range unicode.Scripts {
		if strings.ToLower(script) == key {
			return t
		}
	}
	return nil
}

// onigCategoryNames maps long general-category names to the short ones.
var onigCategoryNames = map[string]string{
	"letter": "l", "uppercaseletter": "lu", "lowercaseletter": "ll", "titlecaseletter": "lt",
	"modifierletter": "lm", "otherletter": "lo", "mark": "m", "nonspacingmark": "mn",
	"spacingmark": "mc", "enclosingmark": "me", "number": "n", "decimalnumber": "nd",
	"letternumber": "nl", "othernumber": "no", "punctuation": "p", "connectorpunctuation": "pc",
	"dashpunctuation": "pd", "openpunctuation": "ps", "closepunctuation": "pe",
	"initialpunctuation": "pi", "finalpunctuation": "pf", "otherpunctuation": "po",
	"symbol": "s", "mathsymbol": "sm", "currencysymbol": "sc", "modifiersymbol": "sk",
	"othersymbol": "so", "separator": "z", "spaceseparator": "zs", "lineseparator": "zl",
	"paragraphseparator": "zp", "other": "c", "control": "cc", "format": "cf", "privateuse": "co",
}

// parseClass parses a bracket class after its '['.
func (p *reParser) parseClass(fold bool) (*reClass, error) {
	c := &reClass{}
	if !p.eof() && p.peek() == '^' {
		p.pos++
		c.neg = true
	}
	first := true
	for {
		if p.eof() {
			return nil, p.errorf("missing ]")
		}
		r := p.next()
		switch {
		case r == ']' && !first:
			return c, nil
		case r == '[':
			return nil, p.errorf("nested or POSIX classes are not supported")
		case r == '&' && !p.eof() && p.peek() == '&':
			return nil, p.errorf("class intersection is not supported")
		}
		first = false
		lo := r
		if r == '\\' {
			sub, lit, err := p.escape(fold)
			if err != nil {
				return nil, err
			}
			if sub != nil {
				if sub.neg {
					c.notTables = append(c.notTables, sub.tables...)
				} else {
					c.tables = append(c.tables, sub.tables...)
				}
				continue
			}
			lo = lit
		}
		hi := lo
		if p.pos+1 < len(p.src) && p.src[p.pos] == '-' && p.src[p.pos+1] != ']' {
			p.pos++
			h := p.next()
			if h == '\\' {
				sub, lit, err := p.escape(fold)
				if err != nil {
					return nil, err
				}
				if sub != nil {
					return nil, p.errorf("class range ends in a class")
				}
				h = lit
			} else if h == '[' {
				return nil, p.errorf("nested or POSIX classes are not supported")
			}
			if h < lo {
				return nil, p.errorf("class range %q-%q is reversed", lo, h)
			}
			hi = h
		}
		if fold {
			if hi >= utf8.RuneSelf {
				return nil, p.errorf("case-insensitive non-ASCII class range is not supported")
			}
			for x := lo; x <= hi; x++ {
				c.addRune(x, true)
			}
			continue
		}
		c.ranges = append(c.ranges, lo, hi)
	}
}

// nullable reports whether n can match the empty string.
func nullable(n *reNode) bool {
	switch n.kind {
	case reLit:
		return false
	case reLook:
		return true
	case reCat:
		for _, s := range n.subs {
			if !nullable(s) {
				return false
			}
		}
		return true
	case reAlt:
		for _, s := range n.subs {
			if nullable(s) {
				return true
			}
		}
		return false
	}
	return n.min == 0 || nullable(n.subs[0])
}
