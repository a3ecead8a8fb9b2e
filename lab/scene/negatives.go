package scene

import (
	"math/rand/v2"
	"slices"
)

// Negative kinds. Each negative differs from a true caption in exactly one
// aspect and is verified to be false for the scene with Holds.
const (
	NegColour     = "colour"      // one object's colour replaced by an unused colour
	NegShape      = "shape"       // one object's shape replaced
	NegSize       = "size"        // one object's size flipped small <-> large
	NegRelation   = "relation"    // one relation reversed, same object phrases
	NegSwapColour = "swap_colour" // two objects exchange colours
	NegSwapSize   = "swap_size"   // two objects exchange sizes
	NegCount      = "count"       // an object that is not there is added
)

var negKinds = []string{NegColour, NegShape, NegSize, NegRelation, NegSwapColour, NegSwapSize, NegCount}

// Negative is a false caption and the kind of change that made it false.
type Negative struct {
	Raw  string `json:"raw"`
	Kind string `json:"kind"`
}

// DefaultNegatives is the default number of negatives per image.
const DefaultNegatives = 6

// negAttempts bounds the retries per kind and round.
const negAttempts = 12

func applicableNegKinds(s Scene) []string {
	var out []string
	for _, k := range negKinds {
		switch k {
		case NegRelation:
			if len(s.Relations) == 0 {
				continue
			}
		case NegSwapColour:
			if len(pairsDiffering(s.Objects, func(o Object) string { return o.Color })) == 0 {
				continue
			}
		case NegSwapSize:
			if len(pairsDiffering(s.Objects, func(o Object) string { return o.Size })) == 0 {
				continue
			}
		case NegCount:
			if len(s.Objects) > 2 {
				continue
			}
		}
		out = append(out, k)
	}
	return out
}

func pairsDiffering[T any](objs []T, attr func(T) string) [][2]int {
	var out [][2]int
	for i := range objs {
		for j := i + 1; j < len(objs); j++ {
			if attr(objs[i]) != attr(objs[j]) {
				out = append(out, [2]int{i, j})
			}
		}
	}
	return out
}

// Negatives builds up to k false captions for the scene in the short style.
// Kinds are visited in an rng-shuffled order so that every applicable kind
// appears once before any kind repeats. Every result is distinct and fails
// Holds.
func Negatives(s Scene, k int, rng *rand.Rand) []Negative {
	return styledNegatives(s, k, rng, StyleShort)
}

// styledNegatives is Negatives in style st: the false claims are drawn once,
// as the draw phrasing of st dictates, and rendered in every phrasing of st.
// With StyleBoth that is the short negatives followed by the full ones not
// already present.
func styledNegatives(s Scene, k int, rng *rand.Rand, st Style) []Negative {
	drawn := negativeClaims(s, k, rng, st.drawPhrasing())
	out := make([]Negative, 0, len(drawn))
	seen := map[string]bool{}
	for _, p := range st.phrasings() {
		for _, n := range drawn {
			if t := n.c.text(p); !seen[t] {
				seen[t] = true
				out = append(out, Negative{Raw: t, Kind: n.kind})
			}
		}
	}
	return out
}

// negClaim is a false claim and the kind of change that made it false.
type negClaim struct {
	c    claim
	kind string
}

// negativeClaims draws up to k false claims whose captions in phrasing p are
// distinct.
func negativeClaims(s Scene, k int, rng *rand.Rand, p Style) []negClaim {
	claims := trueClaims(s)
	seen := map[string]bool{}
	for _, t := range allCaptions(s, p) {
		seen[t] = true
	}
	kinds := applicableNegKinds(s)
	active := make([]string, 0, len(kinds))
	for _, i := range rng.Perm(len(kinds)) {
		active = append(active, kinds[i])
	}
	out := make([]negClaim, 0, k)
	for len(out) < k && len(active) > 0 {
		var next []string
		for _, kind := range active {
			if len(out) == k {
				break
			}
			for range negAttempts {
				m, ok := mutate(rng, claims[rng.IntN(len(claims))], kind, s)
				if !ok {
					continue
				}
				t := m.text(p)
				if seen[t] || Holds(s, t) {
					continue
				}
				seen[t] = true
				out = append(out, negClaim{m, kind})
				next = append(next, kind)
				break
			}
		}
		active = next
	}
	return out
}

func copyClaim(c claim) claim {
	c.objs = append([]desc(nil), c.objs...)
	c.facts = append([]fact(nil), c.facts...)
	return c
}

// mutate changes one aspect of a claim.
func mutate(rng *rand.Rand, c claim, kind string, s Scene) (claim, bool) {
	c = copyClaim(c)
	i := rng.IntN(len(c.objs))
	switch kind {
	case NegColour:
		var unused []string
		for _, col := range ObjectColours {
			if !usesColour(s, col.Name) {
				unused = append(unused, col.Name)
			}
		}
		c.objs[i].Color = unused[rng.IntN(len(unused))]
	case NegShape:
		sh := Shapes[rng.IntN(len(Shapes))]
		if sh == c.objs[i].Shape {
			return c, false
		}
		c.objs[i].Shape = sh
	case NegSize:
		c.objs[i].Size = flipSize(c.objs[i].Size)
	case NegRelation:
		if len(c.facts) == 0 {
			return c, false
		}
		j := rng.IntN(len(c.facts))
		c.facts[j].Rel = inverse(c.facts[j].Rel)
	case NegSwapColour, NegSwapSize:
		attr := func(d desc) string { return d.Color }
		if kind == NegSwapSize {
			attr = func(d desc) string { return d.Size }
		}
		pairs := pairsDiffering(c.objs, attr)
		if len(pairs) == 0 {
			return c, false
		}
		p := pairs[rng.IntN(len(pairs))]
		a, b := &c.objs[p[0]], &c.objs[p[1]]
		if kind == NegSwapSize {
			a.Size, b.Size = b.Size, a.Size
		} else {
			a.Color, b.Color = b.Color, a.Color
		}
	case NegCount:
		return addObject(rng, c, s)
	default:
		return c, false
	}
	// A caption naming the same object twice is nonsense, not a negative.
	for i := range c.objs {
		if slices.Contains(c.objs[:i], c.objs[i]) {
			return c, false
		}
	}
	return c, true
}

func usesColour(s Scene, name string) bool {
	for _, o := range s.Objects {
		if o.Color == name {
			return true
		}
	}
	return false
}

func flipSize(sz string) string {
	if sz == SizeSmall {
		return SizeLarge
	}
	return SizeSmall
}

// addObject extends a 1- or 2-object claim with an object absent from s.
func addObject(rng *rand.Rand, c claim, s Scene) (claim, bool) {
	if len(c.objs) > 2 {
		return c, false
	}
	extra := desc{
		Size:  []string{SizeSmall, SizeLarge}[rng.IntN(2)],
		Color: ObjectColours[rng.IntN(len(ObjectColours))].Name,
		Shape: Shapes[rng.IntN(len(Shapes))],
	}
	for _, o := range s.Objects {
		if descOf(o) == extra {
			return c, false
		}
	}
	if len(c.objs) == 1 {
		return claim{
			form:  rng.IntN(numPairForms),
			objs:  []desc{c.objs[0], extra},
			facts: []fact{{0, 1, Relations[rng.IntN(len(Relations))]}},
		}, true
	}
	f := c.facts[0]
	rel := Relations[rng.IntN(len(Relations))]
	if rel == f.Rel {
		return c, false
	}
	return claim{
		form:  rng.IntN(numTripleForms),
		objs:  []desc{c.objs[f.S], c.objs[f.O], extra},
		facts: []fact{{0, 1, f.Rel}, {2, 1, rel}},
	}, true
}
