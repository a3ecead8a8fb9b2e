package tokenizer

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// The compiled form of an hfRegexp and its matcher: a Pike VM (Thompson's
// NFA simulation with thread priorities, as in RE2), which finds
// Oniguruma's leftmost-first matches in time linear in the text for the
// patterns the parser accepts (no backreferences, lookahead of one
// character, no unbounded repeat of what can match the empty string).

type reOp uint8

const (
	opChar  reOp = iota // a character of classes[arg]
	opSplit             // go to out, else out1
	opJmp               // go to out
	opLook              // lookahead looks[arg] holds here, then out
	opMatch
)

type reInst struct {
	op        reOp
	arg       int32
	out, out1 uint32
}

// hfRegexp is a compiled pattern, immutable and safe for concurrent use.
type hfRegexp struct {
	src   string
	prog  []reInst
	cls   []*reClass
	looks []*reNode
	first []int32 // classes one of which a match's first character is in
	pool  sync.Pool
}

// compileOnig compiles an Oniguruma pattern of the supported subset.
func compileOnig(pattern string) (*hfRegexp, error) {
	if len(pattern) > hfMaxPatternBytes {
		return nil, fmt.Errorf("regex of %d bytes (max %d)", len(pattern), hfMaxPatternBytes)
	}
	if !utf8.ValidString(pattern) {
		return nil, fmt.Errorf("regex %q is not valid UTF-8", pattern)
	}
	p := &reParser{src: pattern}
	fold := false
	n, err := p.parseAlt(&fold, 0)
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.errorf("unmatched )")
	}
	if nullable(n) {
		return nil, fmt.Errorf("regex %q: matching the empty string is not supported", pattern)
	}
	re := &hfRegexp{src: pattern}
	c := reCompiler{re: re}
	c.emit(n)
	if c.tooBig {
		return nil, fmt.Errorf("regex %q: more than %d instructions", pattern, hfMaxRegexInsts)
	}
	re.prog = append(re.prog, reInst{op: opMatch})
	re.first = firstClasses(re)
	return re, nil
}

// firstClasses returns the classes of the character instructions the start
// reaches without consuming input (lookaheads passed as if they held).
func firstClasses(re *hfRegexp) []int32 {
	seen := make([]bool, len(re.prog))
	var out []int32
	stack := []uint32{0}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		switch in := re.prog[pc]; in.op {
		case opChar:
			out = append(out, in.arg)
		case opSplit:
			stack = append(stack, in.out, in.out1)
		case opJmp, opLook:
			stack = append(stack, in.out)
		}
	}
	return out
}

// canStart reports whether a match can start with r.
func (re *hfRegexp) canStart(r rune) bool {
	for _, c := range re.first {
		if re.cls[c].has(r) {
			return true
		}
	}
	return false
}

type reCompiler struct {
	re     *hfRegexp
	tooBig bool
}

func (c *reCompiler) add(in reInst) uint32 {
	if len(c.re.prog) >= hfMaxRegexInsts {
		c.tooBig = true
		return 0
	}
	c.re.prog = append(c.re.prog, in)
	return uint32(len(c.re.prog) - 1)
}

// emit appends the instructions of n; they fall through to the next
// instruction when n matches.
func (c *reCompiler) emit(n *reNode) {
	if c.tooBig {
		return
	}
	next := func() uint32 { return uint32(len(c.re.prog)) }
	switch n.kind {
	case reLit:
		c.re.cls = append(c.re.cls, n.cls)
		c.add(reInst{op: opChar, arg: int32(len(c.re.cls) - 1), out: next() + 1})
	case reLook:
		c.re.looks = append(c.re.looks, n)
		c.add(reInst{op: opLook, arg: int32(len(c.re.looks) - 1), out: next() + 1})
	case reCat:
		for _, s := range n.subs {
			c.emit(s)
		}
	case reAlt:
		var jumps []uint32
		for i, s := range n.subs {
			if i == len(n.subs)-1 {
				c.emit(s)
				break
			}
			split := c.add(reInst{op: opSplit})
			c.re.prog[split].out = next()
			c.emit(s)
			jumps = append(jumps, c.add(reInst{op: opJmp}))
			if c.tooBig {
				return
			}
			c.re.prog[split].out1 = next()
		}
		for _, j := range jumps {
			if !c.tooBig {
				c.re.prog[j].out = next()
			}
		}
	case reRepeat:
		sub := n.subs[0]
		for i := 0; i < n.min; i++ {
			c.emit(sub)
		}
		if n.max < 0 { // x*: L: split body, done; body; jmp L
			split := c.add(reInst{op: opSplit})
			body := next()
			c.emit(sub)
			c.add(reInst{op: opJmp, out: split})
			if c.tooBig {
				return
			}
			c.prefer(split, body, next(), n.lazy)
			return
		}
		var splits []uint32
		for i := n.min; i < n.max; i++ { // nested optionals: (x(x(x)?)?)?
			splits = append(splits, c.add(reInst{op: opSplit}))
			if c.tooBig {
				return
			}
			c.emit(sub)
		}
		for _, s := range splits {
			if !c.tooBig {
				c.prefer(s, s+1, next(), n.lazy)
			}
		}
	}
}

// prefer sets the split at pc to try more (another repetition) first, or
// with lazy done first.
func (c *reCompiler) prefer(pc, more, done uint32, lazy bool) {
	if lazy {
		more, done = done, more
	}
	c.re.prog[pc].out, c.re.prog[pc].out1 = more, done
}

// reThread is a Pike VM thread: its instruction and where its match began.
type reThread struct {
	pc    uint32
	start int
}

// reMachine is the scratch space of one search.
type reMachine struct {
	re         *hfRegexp
	clist      []reThread
	nlist      []reThread
	onList     []uint32 // generation per pc: the pc is on the list being built
	gen        uint32
	stack      []reThread
	text       string
	matchStart int
	matchEnd   int
	matched    bool
}

// find calls fn with the byte offsets of each successive non-overlapping
// match in text, leftmost first, as Oniguruma's search from the end of the
// previous match finds them (the pattern never matches the empty string),
// until fn returns false. text must be valid UTF-8.
func (re *hfRegexp) find(text string, fn func(start, end int) bool) {
	m, _ := re.pool.Get().(*reMachine)
	if m == nil {
		m = &reMachine{re: re, onList: make([]uint32, len(re.prog))}
	}
	m.text = text
	defer func() {
		m.text = ""
		re.pool.Put(m)
	}()
	for pos := 0; pos < len(text); {
		start, end, ok := m.search(pos)
		if !ok || !fn(start, end) {
			return
		}
		pos = end
	}
}

// search finds the leftmost-first match at or after pos.
func (m *reMachine) search(pos int) (start, end int, ok bool) {
	m.clist, m.nlist = m.clist[:0], m.nlist[:0]
	m.matched = false
	m.gen++
	for {
		if !m.matched && pos < len(m.text) { // a match may also start here, with the lowest priority
			if r, _ := utf8.DecodeRuneInString(m.text[pos:]); len(m.clist) > 0 || m.re.canStart(r) {
				m.add(&m.clist, reThread{pc: 0, start: pos}, pos)
			}
		}
		if len(m.clist) == 0 {
			if m.matched || pos >= len(m.text) {
				break
			}
			_, size := utf8.DecodeRuneInString(m.text[pos:])
			pos += size
			m.gen++
			continue
		}
		r, size := rune(-1), 0
		if pos < len(m.text) {
			r, size = utf8.DecodeRuneInString(m.text[pos:])
		}
		m.gen++ // the list of the next position
		m.nlist = m.nlist[:0]
		for _, t := range m.clist {
			in := &m.re.prog[t.pc]
			if in.op == opMatch {
				m.matched, m.matchStart, m.matchEnd = true, t.start, pos
				break // threads of lower priority are cut
			}
			if in.op == opChar && r >= 0 && m.re.cls[in.arg].has(r) {
				m.add(&m.nlist, reThread{pc: in.out, start: t.start}, pos+size)
			}
		}
		m.clist, m.nlist = m.nlist, m.clist
		if r < 0 {
			break
		}
		pos += size
	}
	if !m.matched {
		return 0, 0, false
	}
	return m.matchStart, m.matchEnd, true
}

// add puts the thread t at position pos and the ones its epsilon moves
// reach on list, in priority order, each pc once per step (onList
// generation m.gen).
func (m *reMachine) add(list *[]reThread, t reThread, pos int) {
	m.stack = append(m.stack[:0], t)
	for len(m.stack) > 0 {
		t := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		if m.onList[t.pc] == m.gen {
			continue
		}
		m.onList[t.pc] = m.gen
		in := &m.re.prog[t.pc]
		switch in.op {
		case opJmp:
			t.pc = in.out
			m.stack = append(m.stack, t)
		case opSplit:
			u := t
			u.pc = in.out1
			t.pc = in.out
			m.stack = append(m.stack, u, t)
		case opLook:
			look := m.re.looks[in.arg]
			holds := false
			if pos < len(m.text) {
				r, _ := utf8.DecodeRuneInString(m.text[pos:])
				holds = matchOne(look.subs[0], r)
			}
			if holds != look.neg {
				t.pc = in.out
				m.stack = append(m.stack, t)
			}
		default:
			*list = append(*list, t)
		}
	}
}
