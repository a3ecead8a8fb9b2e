package scene

import (
	"math/rand/v2"
	"strings"
)

// NumCaptions is the number of true captions chosen per image (per phrasing
// with StyleBoth).
const NumCaptions = 5

// Style selects how the captions of a single-object scene are phrased.
// Scenes with two or three objects have the same captions in every style.
type Style string

// Caption styles.
const (
	// StyleShort phrases a lone object in seven templates that name at most
	// one of its region and the background ("a small red circle", "a small red
	// circle at the top left"). It is the default.
	StyleShort Style = "short"
	// StyleFull names the region and the background in every template ("a
	// small red circle at the top left on a plain grey background"), so that
	// two lone objects that differ only there get different captions. A model
	// trained on it alone fails short queries.
	StyleFull Style = "full"
	// StyleBoth writes the short captions followed by the full ones that
	// differ from them, and likewise for negatives.
	StyleBoth Style = "both"
)

// Valid reports whether st is one of the named styles (the empty Style,
// which Options reads as StyleShort, is not).
func (st Style) Valid() bool {
	return st == StyleShort || st == StyleFull || st == StyleBoth
}

// phrasings lists the phrasings that st renders, in output order.
func (st Style) phrasings() []Style {
	switch st {
	case StyleFull:
		return []Style{StyleFull}
	case StyleBoth:
		return []Style{StyleShort, StyleFull}
	}
	return []Style{StyleShort}
}

// drawPhrasing is the phrasing whose texts decide which claims are drawn
// (deduplication and the negative checks). All single-object claims of a scene
// share its region and background, so two of them share a short caption
// exactly when they share a full one and both phrasings draw the same claims
// from the same random numbers; StyleFull still uses its own texts, so that it
// is exactly the full-only generator.
func (st Style) drawPhrasing() Style {
	if st == StyleFull {
		return StyleFull
	}
	return StyleShort
}

// desc is an object phrase: "a <size> <colour> <shape>".
type desc struct{ Size, Color, Shape string }

func (d desc) words() string  { return d.Size + " " + d.Color + " " + d.Shape }
func (d desc) phrase() string { return "a " + d.words() }

func descOf(o Object) desc { return desc{o.Size, o.Color, o.Shape} }

// fact states objs[S] Rel objs[O] inside a claim.
type fact struct {
	S, O int
	Rel  string
}

// claim is the meaning of a caption plus the template (form) used to phrase
// it. Captions are rendered from claims and parsed back into claims.
type claim struct {
	form  int
	objs  []desc
	facts []fact
	// Single-object extras. Every short phrasing names at most one of region and
	// background; every full phrasing names both (see Style).
	single bool
	bgKind string // caption word: plain, gradient or noisy
	bgName string
	region string
}

// Single-object forms.
const (
	formPlain = iota
	formBg
	formSingle
	formRegion
	formOne
	formSingleRegion
	formSingleBg
	numSingleForms
)

const (
	numPairForms   = 7
	numTripleForms = 8
)

func longRel(rel string) string {
	switch rel {
	case LeftOf:
		return "to the left of"
	case RightOf:
		return "to the right of"
	}
	return rel
}

func onIts(rel string) string {
	switch rel {
	case LeftOf:
		return "on its left"
	case RightOf:
		return "on its right"
	case Above:
		return "above it"
	}
	return "below it"
}

func side(rel string) string {
	switch rel {
	case LeftOf:
		return "on the left"
	case RightOf:
		return "on the right"
	case Above:
		return "at the top"
	}
	return "at the bottom"
}

// ref is the shortest unambiguous "the ..." reference to objs[i].
func ref(objs []desc, i int) string {
	d := objs[i]
	for _, cand := range []desc{{"", "", d.Shape}, {"", d.Color, d.Shape}, {d.Size, "", d.Shape}, d} {
		n := 0
		for _, o := range objs {
			if refMatches(cand, o) {
				n++
			}
		}
		if n == 1 {
			return strings.Join(strings.Fields(cand.words()), " ")
		}
	}
	return d.words()
}

func refMatches(r, o desc) bool {
	return r.Shape == o.Shape && (r.Color == "" || r.Color == o.Color) && (r.Size == "" || r.Size == o.Size)
}

// text renders a claim as a caption in phrasing p (StyleShort or StyleFull).
func (c claim) text(p Style) string {
	switch len(c.objs) {
	case 1:
		if p == StyleFull {
			return c.fullSingleText()
		}
		return c.singleText()
	case 2:
		f := c.facts[0]
		return pairText(c.form, c.objs[f.S].phrase(), f.Rel, c.objs[f.O].phrase())
	default:
		return c.tripleText()
	}
}

func (c claim) singleText() string {
	d := c.objs[0]
	switch c.form {
	case formBg:
		return d.phrase() + " on a " + c.bgKind + " " + c.bgName + " background"
	case formSingle:
		return "a single " + d.words()
	case formRegion:
		return d.phrase() + " " + c.region
	case formOne:
		return "one " + d.Color + " " + d.Shape + ", " + d.Size
	case formSingleRegion:
		return "a single " + d.words() + " " + c.region
	case formSingleBg:
		return "a single " + d.words() + " on a " + c.bgKind + " " + c.bgName + " background"
	}
	return d.phrase()
}

// fullSingleText is singleText with the region and the background added to
// every form, so that the caption describes the whole scene.
func (c claim) fullSingleText() string {
	d := c.objs[0]
	bg := "on a " + c.bgKind + " " + c.bgName + " background"
	switch c.form {
	case formBg:
		return d.phrase() + " " + bg + ", " + c.region
	case formSingle:
		return "a single " + d.words() + " " + c.region + " " + bg
	case formRegion:
		return c.region + ", " + d.phrase() + " " + bg
	case formOne:
		return "one " + d.Color + " " + d.Shape + ", " + d.Size + ", " + c.region + ", " + bg
	case formSingleRegion:
		return "a single " + d.words() + " " + bg + ", " + c.region
	case formSingleBg:
		return bg + ", a single " + d.words() + " " + c.region
	}
	return d.phrase() + " " + c.region + " " + bg
}

// pairText renders "s rel o" in one of numPairForms phrasings.
func pairText(form int, s, rel, o string) string {
	switch form {
	case 1:
		return s + " " + rel + " " + o
	case 2:
		return o + " " + longRel(inverse(rel)) + " " + s
	case 3:
		return o + " with " + s + " " + onIts(rel)
	case 4:
		return side(rel) + " " + s + ", " + side(inverse(rel)) + " " + o
	case 5:
		return s + " with " + o + " " + onIts(inverse(rel))
	case 6:
		return o + " " + inverse(rel) + " " + s
	}
	return s + " " + longRel(rel) + " " + o
}

// tripleText renders facts "a r1 b" and "c r2 b".
func (c claim) tripleText() string {
	f1, f2 := c.facts[0], c.facts[1]
	a, b, cc := c.objs[f1.S].phrase(), c.objs[f1.O].phrase(), c.objs[f2.S].phrase()
	the := "the " + ref(c.objs, f1.O)
	r1, r2 := f1.Rel, f2.Rel
	switch c.form {
	case 1:
		return a + " " + r1 + " " + b + ", and " + cc + " " + r2 + " " + the
	case 2:
		return cc + " " + longRel(r2) + " " + b + ", and " + a + " " + longRel(r1) + " " + the
	case 3:
		return cc + " " + r2 + " " + b + ", and " + a + " " + r1 + " " + the
	case 4:
		return b + " with " + a + " " + onIts(r1) + " and " + cc + " " + onIts(r2)
	case 5:
		return b + " with " + cc + " " + onIts(r2) + " and " + a + " " + onIts(r1)
	case 6:
		return b + " " + longRel(inverse(r1)) + " " + a + ", and " + cc + " " + longRel(r2) + " " + the
	case 7:
		return b + " " + longRel(inverse(r2)) + " " + cc + ", and " + a + " " + longRel(r1) + " " + the
	}
	return a + " " + longRel(r1) + " " + b + ", and " + cc + " " + longRel(r2) + " " + the
}

func numForms(nObjs int) int {
	switch nObjs {
	case 1:
		return numSingleForms
	case 2:
		return numPairForms
	}
	return numTripleForms
}

// trueClaims lists one claim per applicable form for the scene.
func trueClaims(s Scene) []claim {
	objs := make([]desc, len(s.Objects))
	for i, o := range s.Objects {
		objs[i] = descOf(o)
	}
	facts := make([]fact, len(s.Relations))
	for i, r := range s.Relations {
		facts[i] = fact{r.Subject, r.Object, r.Relation}
	}
	n := numForms(len(objs))
	out := make([]claim, 0, n)
	for form := range n {
		c := claim{form: form, objs: objs, facts: facts}
		if len(objs) == 1 {
			c.bgKind, c.bgName = bgWord(s.Background.Kind), s.Background.Names[0]
			c.region = region(s.Objects[0].X, s.Objects[0].Y)
			c.single = form == formSingle || form == formSingleRegion || form == formSingleBg
		}
		out = append(out, c)
	}
	return out
}

// distinctClaims lists the true claims of the scene whose captions in
// phrasing p differ, in form order.
func distinctClaims(s Scene, p Style) []claim {
	var out []claim
	seen := map[string]bool{}
	for _, c := range trueClaims(s) {
		t := c.text(p)
		if !seen[t] {
			seen[t] = true
			out = append(out, c)
		}
	}
	return out
}

// allCaptions lists every distinct true caption for the scene in phrasing p,
// in form order.
func allCaptions(s Scene, p Style) []string {
	claims := distinctClaims(s, p)
	out := make([]string, len(claims))
	for i, c := range claims {
		out[i] = c.text(p)
	}
	return out
}

// Captions chooses NumCaptions distinct true captions for the scene using
// rng, in the short style. The result depends only on the scene and the rng
// state.
func Captions(s Scene, rng *rand.Rand) []string {
	return styledCaptions(s, rng, StyleShort)
}

// styledCaptions is Captions in style st. The claims are drawn once, as the
// draw phrasing of st dictates, and rendered in every phrasing of st, so the
// rng advances exactly as it does for that single phrasing. With StyleBoth it
// returns the short captions followed by the full ones that differ from them.
func styledCaptions(s Scene, rng *rand.Rand, st Style) []string {
	all := distinctClaims(s, st.drawPhrasing())
	picked := make([]claim, 0, NumCaptions)
	for _, i := range rng.Perm(len(all)) {
		if len(picked) == NumCaptions {
			break
		}
		picked = append(picked, all[i])
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range st.phrasings() {
		for _, c := range picked {
			if t := c.text(p); !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// Tokens splits a caption into lower-case words the way Karpathy-style
// caption files do (punctuation is dropped).
func Tokens(raw string) []string {
	f := strings.Fields(strings.ToLower(raw))
	out := make([]string, 0, len(f))
	for _, w := range f {
		w = strings.Trim(w, ",.")
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}
