package scene

import (
	"math"
	"math/rand/v2"
)

// Object is one shape in a scene. X and Y are the centre as fractions of the
// image width and height; R is the nominal radius as a fraction of the side.
type Object struct {
	Shape string  `json:"shape"`
	Color string  `json:"color"`
	Size  string  `json:"size"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	R     float64 `json:"r"`
}

// Relation states "Objects[Subject] Relation Objects[Object]".
type Relation struct {
	Subject  int    `json:"subject"`
	Relation string `json:"relation"`
	Object   int    `json:"object"`
}

// Background describes the backdrop. Colors[0] is the base colour whose name
// captions use. Direction is the unit gradient direction (gradient only) and
// NoiseSeed seeds the value-noise lattice (noise only).
type Background struct {
	Kind      string    `json:"kind"`
	Colors    []string  `json:"colors"`
	Names     []string  `json:"names"`
	Direction []float64 `json:"direction,omitempty"`
	NoiseSeed uint64    `json:"noise_seed,omitempty"`
}

// Scene is a complete, renderable scene description.
type Scene struct {
	Background Background `json:"background"`
	Objects    []Object   `json:"objects"`
	Relations  []Relation `json:"relations"`
}

// Layout constants (fractions of the image side).
const (
	margin      = 0.02 // minimum distance from any shape to the image edge
	extent      = 1.12 // bounding radius of every shape, in units of R
	gap         = 0.04 // centre distance must exceed rA + rB + gap
	dominance   = 1.6  // |along| >= dominance * |across| for a relation
	minAlong    = 0.08 // the along-axis offset must be at least this
	maxAttempts = 200  // rejection sampling budget before the fallback
	quantum     = 1e4  // positions and radii are rounded to 1/quantum
)

func quantize(v float64) float64 { return math.Round(float64(v*quantum)) / quantum }

// NewScene builds the scene for (seed, index). Scenes have 1 to 3 objects.
func NewScene(seed uint64, index int) Scene {
	rng := NewRNG(seed, index, streamScene)
	return buildScene(rng, pickCount(rng, false))
}

func pickCount(rng *rand.Rand, twin bool) int {
	u := rng.Float64()
	if twin {
		if u < 0.45/0.8 {
			return 2
		}
		return 3
	}
	switch {
	case u < 0.2:
		return 1
	case u < 0.65:
		return 2
	default:
		return 3
	}
}

func buildScene(rng *rand.Rand, n int) Scene {
	objs := pickObjects(rng, n)
	rels := pickRelations(rng, objs)
	placeObjects(rng, objs, rels)
	return Scene{Background: pickBackground(rng), Objects: objs, Relations: rels}
}

func pickObjects(rng *rand.Rand, n int) []Object {
	objs := make([]Object, 0, n)
	for len(objs) < n {
		o := Object{
			Shape: Shapes[rng.IntN(len(Shapes))],
			Color: ObjectColours[rng.IntN(len(ObjectColours))].Name,
			Size:  SizeSmall,
		}
		if rng.IntN(2) == 1 {
			o.Size = SizeLarge
		}
		// Bias towards sharing a shape or colour so that binding matters.
		if len(objs) > 0 {
			prev := objs[rng.IntN(len(objs))]
			switch u := rng.Float64(); {
			case u < 0.35:
				o.Shape = prev.Shape
			case u < 0.7:
				o.Color = prev.Color
			}
		}
		if hasTriple(objs, o) {
			continue
		}
		base := radiusSmall
		if o.Size == SizeLarge {
			base = radiusLarge
		}
		o.R = quantize(float64(base * (1 + float64((float64(rng.Float64()*2)-1)*radiusJit))))
		objs = append(objs, o)
	}
	return objs
}

func hasTriple(objs []Object, o Object) bool {
	for _, p := range objs {
		if p.Shape == o.Shape && p.Color == o.Color && p.Size == o.Size {
			return true
		}
	}
	return false
}

func pickRelations(rng *rand.Rand, objs []Object) []Relation {
	switch len(objs) {
	case 1:
		return []Relation{}
	case 2:
		return []Relation{{0, Relations[rng.IntN(4)], 1}}
	}
	r1 := Relations[rng.IntN(4)]
	r2 := Relations[rng.IntN(4)]
	for r2 == r1 {
		r2 = Relations[rng.IntN(4)]
	}
	if r2 == inverse(r1) {
		// Three objects in a row must fit across the image.
		need := float64(2*extent*(objs[0].R+objs[1].R+objs[2].R)) + 2*gap + 0.1 + 2*margin
		if need > 1 {
			// Pick one of the two perpendicular relations.
			if horizontal(r1) {
				r2 = []string{Above, Below}[rng.IntN(2)]
			} else {
				r2 = []string{LeftOf, RightOf}[rng.IntN(2)]
			}
		}
	}
	return []Relation{{0, r1, 1}, {2, r2, 1}}
}

func pickBackground(rng *rand.Rand) Background {
	kind := bgKinds[rng.IntN(len(bgKinds))]
	base := BackgroundColours[rng.IntN(len(BackgroundColours))]
	bg := Background{Kind: kind, Colors: []string{base.Hex()}, Names: []string{base.Name}}
	switch kind {
	case BgGradient:
		other := BackgroundColours[rng.IntN(len(BackgroundColours))]
		for other.Name == base.Name {
			other = BackgroundColours[rng.IntN(len(BackgroundColours))]
		}
		bg.Colors = append(bg.Colors, other.Hex())
		bg.Names = append(bg.Names, other.Name)
		for {
			dx, dy := float64(rng.Float64()*2)-1, float64(rng.Float64()*2)-1
			n2 := float64(dx*dx) + float64(dy*dy)
			if n2 < 0.04 || n2 > 1 {
				continue
			}
			n := math.Sqrt(n2)
			bg.Direction = []float64{quantize(dx / n), quantize(dy / n)}
			break
		}
	case BgNoise:
		bg.NoiseSeed = rng.Uint64() >> 11 // fits exactly in a JSON number
	}
	return bg
}

// placeObjects positions objects by bounded rejection sampling, falling back
// to a canonical layout.
func placeObjects(rng *rand.Rand, objs []Object, rels []Relation) {
	if len(objs) == 1 {
		o := &objs[0]
		lo := margin + float64(extent*o.R)
		o.X = quantize(lo + float64(rng.Float64()*(1-float64(2*lo))))
		o.Y = quantize(lo + float64(rng.Float64()*(1-float64(2*lo))))
		return
	}
	mid := rels[0].Object
	for range maxAttempts {
		b := &objs[mid]
		lo := margin + float64(extent*b.R)
		b.X = quantize(lo + float64(rng.Float64()*(1-float64(2*lo))))
		b.Y = quantize(lo + float64(rng.Float64()*(1-float64(2*lo))))
		for _, r := range rels {
			s := &objs[r.Subject]
			ux, uy := direction(r.Relation)
			d := s.R + b.R + gap + 0.02 + float64(rng.Float64()*0.3)
			p := float64((float64(rng.Float64()*2) - 1) * d * 0.55)
			// (ux, uy) is axis-aligned, so the perpendicular is (-uy, ux).
			s.X = quantize(b.X + float64(ux*d) - float64(uy*p))
			s.Y = quantize(b.Y + float64(uy*d) + float64(ux*p))
		}
		if validLayout(objs, rels) {
			return
		}
	}
	canonicalLayout(objs, rels)
}

// canonicalLayout places the shared object and puts each subject straight
// along its relation's axis, then centres the bounding box in the image.
func canonicalLayout(objs []Object, rels []Relation) {
	mid := rels[0].Object
	objs[mid].X, objs[mid].Y = 0.5, 0.5
	for _, r := range rels {
		s := &objs[r.Subject]
		ux, uy := direction(r.Relation)
		d := s.R + objs[mid].R + gap + 0.06
		s.X = 0.5 + float64(ux*d)
		s.Y = 0.5 + float64(uy*d)
	}
	minX, maxX, minY, maxY := 1.0, 0.0, 1.0, 0.0
	for _, o := range objs {
		e := float64(extent * o.R)
		minX, maxX = math.Min(minX, o.X-e), math.Max(maxX, o.X+e)
		minY, maxY = math.Min(minY, o.Y-e), math.Max(maxY, o.Y+e)
	}
	sx, sy := 0.5-(minX+maxX)/2, 0.5-(minY+maxY)/2
	for i := range objs {
		objs[i].X = quantize(objs[i].X + sx)
		objs[i].Y = quantize(objs[i].Y + sy)
	}
}

// validLayout reports whether every object is inside the image with a
// margin, no two objects overlap and every relation holds unambiguously.
func validLayout(objs []Object, rels []Relation) bool {
	for i, o := range objs {
		e := float64(extent * o.R)
		if o.X-e < margin || o.X+e > 1-margin || o.Y-e < margin || o.Y+e > 1-margin {
			return false
		}
		for _, p := range objs[i+1:] {
			dx, dy := o.X-p.X, o.Y-p.Y
			min := o.R + p.R + gap
			if float64(dx*dx)+float64(dy*dy) <= float64(min*min) {
				return false
			}
		}
	}
	for _, r := range rels {
		if !strictRelation(objs[r.Subject], r.Relation, objs[r.Object]) {
			return false
		}
	}
	return true
}

// strictRelation is the generator's unambiguous version of a relation.
func strictRelation(s Object, rel string, o Object) bool {
	ux, uy := direction(rel)
	dx, dy := s.X-o.X, s.Y-o.Y
	along := float64(dx*ux) + float64(dy*uy)
	across := math.Abs(float64(dx*uy) - float64(dy*ux))
	return along >= minAlong && along >= float64(dominance*across)
}

// relationHolds is the reader's version of a relation used by Holds: the
// subject lies on that side of the object and that axis dominates.
func relationHolds(s Object, rel string, o Object) bool {
	ux, uy := direction(rel)
	dx, dy := s.X-o.X, s.Y-o.Y
	along := float64(dx*ux) + float64(dy*uy)
	across := math.Abs(float64(dx*uy) - float64(dy*ux))
	return along > 0 && along > across
}
