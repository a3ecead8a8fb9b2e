package scene

import "math/rand/v2"

// Twin kinds: the single binding aspect in which a twin differs.
const (
	TwinSwapColour = "swap_colour"
	TwinSwapSize   = "swap_size"
	TwinRelation   = "relation"
)

var twinKinds = []string{TwinSwapColour, TwinSwapSize, TwinRelation}

// NewTwinScene builds a scene with 2 or 3 objects and its twin, which differs
// only in binding: two objects' colours swapped, two objects' sizes swapped,
// or one relation reversed. Same background, same shapes. Every candidate
// caption of one scene is false for the other.
func NewTwinScene(seed uint64, index int) (orig, twin Scene, kind string) {
	rng := NewRNG(seed, index, streamTwin)
	for range 100 {
		s := buildScene(rng, pickCount(rng, true))
		order := rng.Perm(len(twinKinds))
		for _, k := range order {
			if t, ok := makeTwin(rng, s, twinKinds[k]); ok && twinsDisjoint(s, t) {
				return s, t, twinKinds[k]
			}
		}
	}
	// Unreachable in practice; a fixed pair that always works.
	s := Scene{
		Background: Background{Kind: BgPlain, Colors: []string{"#808080"}, Names: []string{"grey"}},
		Objects: []Object{
			{Shape: "circle", Color: "red", Size: SizeSmall, R: radiusSmall},
			{Shape: "square", Color: "blue", Size: SizeLarge, R: radiusLarge},
		},
		Relations: []Relation{{0, LeftOf, 1}},
	}
	canonicalLayout(s.Objects, s.Relations)
	t := cloneScene(s)
	t.Objects[0].Color, t.Objects[1].Color = t.Objects[1].Color, t.Objects[0].Color
	return s, t, TwinSwapColour
}

func cloneScene(s Scene) Scene {
	t := s
	t.Objects = append([]Object(nil), s.Objects...)
	t.Relations = append([]Relation(nil), s.Relations...)
	t.Background.Colors = append([]string(nil), s.Background.Colors...)
	t.Background.Names = append([]string(nil), s.Background.Names...)
	if s.Background.Direction != nil {
		t.Background.Direction = append([]float64(nil), s.Background.Direction...)
	}
	return t
}

// makeTwin applies one binding change to a copy of s.
func makeTwin(rng *rand.Rand, s Scene, kind string) (Scene, bool) {
	for _, ri := range rng.Perm(len(s.Relations)) {
		t := cloneScene(s)
		r := t.Relations[ri]
		a, b := &t.Objects[r.Subject], &t.Objects[r.Object]
		switch kind {
		case TwinSwapColour:
			if a.Color == b.Color {
				continue
			}
			a.Color, b.Color = b.Color, a.Color
		case TwinSwapSize:
			if a.Size == b.Size {
				continue
			}
			a.Size, b.Size = b.Size, a.Size
			a.R, b.R = b.R, a.R
		case TwinRelation:
			t.Relations[ri].Relation = inverse(r.Relation)
			if len(t.Objects) == 2 {
				// Swap the two positions; fall back to reflecting.
				a.X, a.Y, b.X, b.Y = b.X, b.Y, a.X, a.Y
				if !validLayout(t.Objects, t.Relations) {
					a.X, a.Y, b.X, b.Y = b.X, b.Y, a.X, a.Y
					a.X, a.Y = mirror(a.X, b.X), mirror(a.Y, b.Y)
				}
			} else {
				// Reflect the subject through the shared object so the other
				// relation is untouched.
				a.X, a.Y = mirror(a.X, b.X), mirror(a.Y, b.Y)
			}
		}
		if distinctTriples(t.Objects) && validLayout(t.Objects, t.Relations) {
			return t, true
		}
	}
	return Scene{}, false
}

func mirror(v, about float64) float64 { return quantize(float64(2*about) - v) }

func distinctTriples(objs []Object) bool {
	for i := range objs {
		if hasTriple(objs[:i], objs[i]) {
			return false
		}
	}
	return true
}

// twinsDisjoint reports whether no candidate caption of either scene holds
// for the other. Twins have two or three objects, whose captions are the same
// in every Style.
func twinsDisjoint(s, t Scene) bool {
	for _, c := range allCaptions(t, StyleShort) {
		if Holds(s, c) {
			return false
		}
	}
	for _, c := range allCaptions(s, StyleShort) {
		if Holds(t, c) {
			return false
		}
	}
	return true
}
