package scene

import (
	"regexp"
	"strings"
)

func alt(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = regexp.QuoteMeta(w)
	}
	return "(?:" + strings.Join(q, "|") + ")"
}

func colourNames(cs []Colour) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

var (
	reSize   = alt([]string{SizeSmall, SizeLarge})
	reColour = alt(colourNames(ObjectColours))
	reShape  = alt(Shapes)
	reDesc   = "(" + reSize + " " + reColour + " " + reShape + ")"
	reObj    = "a " + reDesc
	reRel    = "(" + alt([]string{"to the left of", "to the right of", LeftOf, RightOf, Above, Below}) + ")"
	reOnIts  = "(" + alt([]string{"on its left", "on its right", "above it", "below it"}) + ")"
	reSide   = "(" + alt([]string{"on the left", "on the right", "at the top", "at the bottom"}) + ")"
	reBg     = "on a (plain|gradient|noisy) (" + alt(colourNames(BackgroundColours)) + ") background"
	reRegion = "(" + alt(regionPhrases) + ")"
	reRef    = "((?:" + reSize + " )?(?:" + reColour + " )?" + reShape + ")"

	pPlain        = regexp.MustCompile("^" + reObj + "$")
	pBg           = regexp.MustCompile("^" + reObj + " " + reBg + "$")
	pSingle       = regexp.MustCompile("^a single " + reDesc + "$")
	pRegion       = regexp.MustCompile("^" + reObj + " " + reRegion + "$")
	pOne          = regexp.MustCompile("^one (" + reColour + ") (" + reShape + "), (" + reSize + ")$")
	pSingleRegion = regexp.MustCompile("^a single " + reDesc + " " + reRegion + "$")
	pSingleBg     = regexp.MustCompile("^a single " + reDesc + " " + reBg + "$")
	pRel          = regexp.MustCompile("^" + reObj + " " + reRel + " " + reObj + "$")
	pWith         = regexp.MustCompile("^" + reObj + " with " + reObj + " " + reOnIts + "$")
	pSides        = regexp.MustCompile("^" + reSide + " " + reObj + ", " + reSide + " " + reObj + "$")
	pTriple       = regexp.MustCompile("^" + reObj + " " + reRel + " " + reObj + ", and " + reObj + " " + reRel + " the " + reRef + "$")
	pWith2        = regexp.MustCompile("^" + reObj + " with " + reObj + " " + reOnIts + " and " + reObj + " " + reOnIts + "$")
)

// Full-style single-object phrasings (claim.fullSingleText).
var (
	pFullPlain        = regexp.MustCompile("^" + reObj + " " + reRegion + " " + reBg + "$")
	pFullBg           = regexp.MustCompile("^" + reObj + " " + reBg + ", " + reRegion + "$")
	pFullSingle       = regexp.MustCompile("^a single " + reDesc + " " + reRegion + " " + reBg + "$")
	pFullRegion       = regexp.MustCompile("^" + reRegion + ", " + reObj + " " + reBg + "$")
	pFullOne          = regexp.MustCompile("^one (" + reColour + ") (" + reShape + "), (" + reSize + "), " + reRegion + ", " + reBg + "$")
	pFullSingleRegion = regexp.MustCompile("^a single " + reDesc + " " + reBg + ", " + reRegion + "$")
	pFullSingleBg     = regexp.MustCompile("^" + reBg + ", a single " + reDesc + " " + reRegion + "$")
)

func parseDesc(words string) desc {
	f := strings.Fields(words)
	return desc{Size: f[0], Color: f[1], Shape: f[2]}
}

func relFromPhrase(p string) string {
	switch p {
	case "to the left of", LeftOf, "on its left", "on the left":
		return LeftOf
	case "to the right of", RightOf, "on its right", "on the right":
		return RightOf
	case Above, "above it", "at the top":
		return Above
	}
	return Below
}

// parse turns a caption back into a claim. It accepts exactly the phrasings
// that claim.text produces, in either style.
func parse(caption string) (claim, bool) {
	if m := pPlain.FindStringSubmatch(caption); m != nil {
		return claim{form: formPlain, objs: []desc{parseDesc(m[1])}}, true
	}
	if m := pBg.FindStringSubmatch(caption); m != nil {
		return claim{form: formBg, objs: []desc{parseDesc(m[1])}, bgKind: m[2], bgName: m[3]}, true
	}
	if m := pSingle.FindStringSubmatch(caption); m != nil {
		return claim{form: formSingle, objs: []desc{parseDesc(m[1])}, single: true}, true
	}
	if m := pRegion.FindStringSubmatch(caption); m != nil {
		return claim{form: formRegion, objs: []desc{parseDesc(m[1])}, region: m[2]}, true
	}
	if m := pOne.FindStringSubmatch(caption); m != nil {
		return claim{form: formOne, objs: []desc{{Size: m[3], Color: m[1], Shape: m[2]}}}, true
	}
	if m := pSingleRegion.FindStringSubmatch(caption); m != nil {
		return claim{form: formSingleRegion, objs: []desc{parseDesc(m[1])}, single: true, region: m[2]}, true
	}
	if m := pSingleBg.FindStringSubmatch(caption); m != nil {
		return claim{form: formSingleBg, objs: []desc{parseDesc(m[1])}, single: true, bgKind: m[2], bgName: m[3]}, true
	}
	if c, ok := parseFullSingle(caption); ok {
		return c, true
	}
	if m := pRel.FindStringSubmatch(caption); m != nil {
		return claim{objs: []desc{parseDesc(m[1]), parseDesc(m[3])}, facts: []fact{{0, 1, relFromPhrase(m[2])}}}, true
	}
	if m := pWith.FindStringSubmatch(caption); m != nil {
		return claim{objs: []desc{parseDesc(m[1]), parseDesc(m[2])}, facts: []fact{{1, 0, relFromPhrase(m[3])}}}, true
	}
	if m := pSides.FindStringSubmatch(caption); m != nil {
		r1, r2 := relFromPhrase(m[1]), relFromPhrase(m[3])
		if r2 != inverse(r1) {
			return claim{}, false
		}
		return claim{objs: []desc{parseDesc(m[2]), parseDesc(m[4])}, facts: []fact{{0, 1, r1}}}, true
	}
	if m := pTriple.FindStringSubmatch(caption); m != nil {
		objs := []desc{parseDesc(m[1]), parseDesc(m[3]), parseDesc(m[4])}
		target := resolveRef(objs[:2], m[6])
		if target < 0 {
			return claim{}, false
		}
		return claim{objs: objs, facts: []fact{{0, 1, relFromPhrase(m[2])}, {2, target, relFromPhrase(m[5])}}}, true
	}
	if m := pWith2.FindStringSubmatch(caption); m != nil {
		objs := []desc{parseDesc(m[1]), parseDesc(m[2]), parseDesc(m[4])}
		return claim{objs: objs, facts: []fact{{1, 0, relFromPhrase(m[3])}, {2, 0, relFromPhrase(m[5])}}}, true
	}
	return claim{}, false
}

// parseFullSingle parses the full-style phrasings of a lone object.
func parseFullSingle(caption string) (claim, bool) {
	if m := pFullPlain.FindStringSubmatch(caption); m != nil {
		return claim{form: formPlain, objs: []desc{parseDesc(m[1])}, region: m[2], bgKind: m[3], bgName: m[4]}, true
	}
	if m := pFullBg.FindStringSubmatch(caption); m != nil {
		return claim{form: formBg, objs: []desc{parseDesc(m[1])}, bgKind: m[2], bgName: m[3], region: m[4]}, true
	}
	if m := pFullSingle.FindStringSubmatch(caption); m != nil {
		return claim{form: formSingle, objs: []desc{parseDesc(m[1])}, single: true, region: m[2], bgKind: m[3], bgName: m[4]}, true
	}
	if m := pFullRegion.FindStringSubmatch(caption); m != nil {
		return claim{form: formRegion, objs: []desc{parseDesc(m[2])}, region: m[1], bgKind: m[3], bgName: m[4]}, true
	}
	if m := pFullOne.FindStringSubmatch(caption); m != nil {
		return claim{form: formOne, objs: []desc{{Size: m[3], Color: m[1], Shape: m[2]}}, region: m[4], bgKind: m[5], bgName: m[6]}, true
	}
	if m := pFullSingleRegion.FindStringSubmatch(caption); m != nil {
		return claim{form: formSingleRegion, objs: []desc{parseDesc(m[1])}, single: true, bgKind: m[2], bgName: m[3], region: m[4]}, true
	}
	if m := pFullSingleBg.FindStringSubmatch(caption); m != nil {
		return claim{form: formSingleBg, objs: []desc{parseDesc(m[3])}, single: true, bgKind: m[1], bgName: m[2], region: m[4]}, true
	}
	return claim{}, false
}

// resolveRef finds the single candidate that the words "[size] [colour]
// shape" describe, or -1.
func resolveRef(cands []desc, words string) int {
	f := strings.Fields(words)
	r := desc{Shape: f[len(f)-1]}
	for _, w := range f[:len(f)-1] {
		if w == SizeSmall || w == SizeLarge {
			r.Size = w
		} else {
			r.Color = w
		}
	}
	found := -1
	for i, c := range cands {
		if refMatches(r, c) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// Holds reports whether caption is a recognised caption that is true of the
// scene: every described object exists (exact size, colour and shape), every
// relation holds geometrically, and any count, background or position claim
// matches. Unrecognised captions are never true.
func Holds(s Scene, caption string) bool {
	c, ok := parse(caption)
	if !ok {
		return false
	}
	return c.holds(s)
}

func (c claim) holds(s Scene) bool {
	idx := make([]int, len(c.objs))
	for i, d := range c.objs {
		idx[i] = -1
		for j, o := range s.Objects {
			if descOf(o) == d {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return false
		}
	}
	if c.single && len(s.Objects) != 1 {
		return false
	}
	if c.bgKind != "" && (c.bgKind != bgWord(s.Background.Kind) || c.bgName != s.Background.Names[0]) {
		return false
	}
	if c.region != "" && c.region != region(s.Objects[idx[0]].X, s.Objects[idx[0]].Y) {
		return false
	}
	for _, f := range c.facts {
		if !relationHolds(s.Objects[idx[f.S]], f.Rel, s.Objects[idx[f.O]]) {
			return false
		}
	}
	return true
}
