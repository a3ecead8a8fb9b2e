package scene

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// testScenes returns a spread of generated scenes.
func testScenes(n int) []Scene {
	out := make([]Scene, 0, n)
	for i := range n {
		out = append(out, NewScene(uint64(i%5), i))
	}
	return out
}

func TestLayoutInvariants(t *testing.T) {
	counts := map[int]int{}
	for i, s := range testScenes(2000) {
		counts[len(s.Objects)]++
		if !distinctTriples(s.Objects) {
			t.Fatalf("scene %d: repeated (shape, colour, size): %+v", i, s.Objects)
		}
		for j, o := range s.Objects {
			e := extent * o.R
			if o.X-e < margin-1e-9 || o.X+e > 1-margin+1e-9 || o.Y-e < margin-1e-9 || o.Y+e > 1-margin+1e-9 {
				t.Errorf("scene %d object %d outside image: %+v", i, j, o)
			}
			for _, p := range s.Objects[j+1:] {
				if math.Hypot(o.X-p.X, o.Y-p.Y) <= o.R+p.R+gap {
					t.Errorf("scene %d: objects overlap", i)
				}
			}
		}
		for _, r := range s.Relations {
			a, b := s.Objects[r.Subject], s.Objects[r.Object]
			dx, dy := a.X-b.X, a.Y-b.Y
			var ok bool
			switch r.Relation {
			case LeftOf:
				ok = dx < -0.05 && math.Abs(dx) >= 1.6*math.Abs(dy)
			case RightOf:
				ok = dx > 0.05 && math.Abs(dx) >= 1.6*math.Abs(dy)
			case Above:
				ok = dy < -0.05 && math.Abs(dy) >= 1.6*math.Abs(dx)
			case Below:
				ok = dy > 0.05 && math.Abs(dy) >= 1.6*math.Abs(dx)
			}
			if !ok {
				t.Errorf("scene %d: relation %+v does not hold: %+v %+v", i, r, a, b)
			}
		}
		if len(s.Objects) == 3 && s.Relations[0].Relation == s.Relations[1].Relation {
			t.Errorf("scene %d: both relations are %q", i, s.Relations[0].Relation)
		}
		for _, c := range s.Background.Colors {
			rgb, err := parseHex(c)
			if err != nil {
				t.Fatal(err)
			}
			if sat := slices.Max(rgb[:]) - slices.Min(rgb[:]); sat > 40 {
				t.Errorf("scene %d: saturated background %s", i, c)
			}
		}
	}
	for n, want := range map[int]float64{1: 0.2, 2: 0.45, 3: 0.35} {
		if got := float64(counts[n]) / 2000; math.Abs(got-want) > 0.05 {
			t.Errorf("%d-object share = %.3f, want about %.2f", n, got, want)
		}
	}
}

func TestPixelsMatchScene(t *testing.T) {
	const size = 128
	for i, s := range testScenes(60) {
		img, err := Render(s, size)
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range s.Objects {
			want, _ := objectColour(o.Color)
			x, y := insidePoint(o)
			got := img.RGBAAt(int(x*size), int(y*size))
			for _, d := range []int{int(got.R) - int(want.R), int(got.G) - int(want.G), int(got.B) - int(want.B)} {
				if d < -3 || d > 3 {
					t.Errorf("scene %d object %d (%s %s): pixel %v, want %s", i, j, o.Color, o.Shape, got, want.Hex())
					break
				}
			}
		}
		// A corner pixel shows the background, never an object colour.
		c := img.RGBAAt(0, 0)
		if int(max(c.R, c.G, c.B))-int(min(c.R, c.G, c.B)) > 60 {
			t.Errorf("scene %d: corner pixel %v looks saturated", i, c)
		}
	}
}

func TestShapesDiffer(t *testing.T) {
	// Every pair of shapes disagrees on some sample point, and the ring has
	// a hole.
	for a, sa := range Shapes {
		for _, sb := range Shapes[a+1:] {
			differ := false
			for u := -1.1; u <= 1.1 && !differ; u += 0.05 {
				for v := -1.1; v <= 1.1; v += 0.05 {
					if insideShape(sa, u, v) != insideShape(sb, u, v) {
						differ = true
						break
					}
				}
			}
			if !differ {
				t.Errorf("%s and %s render identically", sa, sb)
			}
		}
	}
	if insideShape("ring", 0, 0) || !insideShape("ring", 0.78, 0) {
		t.Error("ring hole wrong")
	}
}

func TestCaptionsAreTrueAndNameObjects(t *testing.T) {
	for _, st := range []Style{StyleShort, StyleFull, StyleBoth} {
		t.Run(string(st), func(t *testing.T) {
			for i, s := range testScenes(400) {
				checkCaptions(t, i, s, styledCaptions(s, NewRNG(1, i, streamCaptions), st), st)
			}
		})
	}
}

// checkCaptions checks that caps are distinct, well formed, true of s and
// name every object of s and no absent colour.
func checkCaptions(t *testing.T, i int, s Scene, caps []string, st Style) {
	t.Helper()
	want := NumCaptions
	if st == StyleBoth && len(s.Objects) == 1 {
		want = 2 * NumCaptions
	}
	if len(caps) != want {
		t.Fatalf("scene %d: %d captions, want %d", i, len(caps), want)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(caps)))) != len(caps) {
		t.Errorf("scene %d: duplicate captions %q", i, caps)
	}
	for _, c := range caps {
		if c != strings.ToLower(c) || strings.Contains(c, "  ") || strings.HasSuffix(c, ".") {
			t.Errorf("bad formatting %q", c)
		}
		if !Holds(s, c) {
			t.Errorf("scene %d: caption %q does not hold for %+v", i, c, s)
		}
		words := " " + strings.ReplaceAll(c, ",", "") + " "
		for _, o := range s.Objects {
			for _, w := range []string{o.Size, o.Color, o.Shape} {
				if !strings.Contains(words, " "+w+" ") {
					t.Errorf("scene %d: caption %q misses %q", i, c, w)
				}
			}
		}
		for _, col := range ObjectColours {
			if strings.Contains(words, " "+col.Name+" ") && !usesColour(s, col.Name) {
				t.Errorf("scene %d: caption %q names absent colour %s", i, c, col.Name)
			}
		}
	}
}

// TestFullCaptionsNameRegionAndBackground checks that every full-style
// caption of a lone object names its region and the background, and that the
// parser reads both back.
func TestFullCaptionsNameRegionAndBackground(t *testing.T) {
	singles := 0
	for i, s := range testScenes(400) {
		if len(s.Objects) != 1 {
			continue
		}
		singles++
		o := s.Objects[0]
		reg := region(o.X, o.Y)
		bg := "on a " + bgWord(s.Background.Kind) + " " + s.Background.Names[0] + " background"
		full := allCaptions(s, StyleFull)
		if len(full) != numSingleForms {
			t.Errorf("scene %d: %d full captions, want %d", i, len(full), numSingleForms)
		}
		for _, c := range full {
			if !strings.Contains(c, reg) || !strings.Contains(c, bg) {
				t.Errorf("scene %d: full caption %q lacks %q or %q", i, c, reg, bg)
			}
			cl, ok := parse(c)
			if !ok || cl.region != reg || cl.bgKind != bgWord(s.Background.Kind) || cl.bgName != s.Background.Names[0] {
				t.Errorf("scene %d: parse(%q) = %+v, %v", i, c, cl, ok)
			}
		}
		if short := allCaptions(s, StyleShort); slices.ContainsFunc(short, func(c string) bool { return slices.Contains(full, c) }) {
			t.Errorf("scene %d: a short caption is also a full one: %q %q", i, short, full)
		}
	}
	if singles < 40 {
		t.Fatalf("only %d single-object scenes", singles)
	}
	one := Scene{Background: Background{Kind: BgPlain, Colors: []string{"#d9cfb8"}, Names: []string{"beige"}},
		Objects: []Object{{Shape: "ring", Color: "cyan", Size: SizeSmall, X: 0.8, Y: 0.15, R: 0.085}}}
	want := []string{
		"a small cyan ring at the top right on a plain beige background",
		"a small cyan ring on a plain beige background, at the top right",
		"a single small cyan ring at the top right on a plain beige background",
		"at the top right, a small cyan ring on a plain beige background",
		"one cyan ring, small, at the top right, on a plain beige background",
		"a single small cyan ring on a plain beige background, at the top right",
		"on a plain beige background, a single small cyan ring at the top right",
	}
	if got := allCaptions(one, StyleFull); !slices.Equal(got, want) {
		t.Errorf("full captions of a lone cyan ring:\n got %q\nwant %q", got, want)
	}
}

// TestBothIsShortThenFull checks that StyleBoth draws once and renders what
// separate short and full draws give, merged: the short texts, then the full
// ones not among them.
func TestBothIsShortThenFull(t *testing.T) {
	merge := func(a, b []string) []string {
		out := slices.Clone(a)
		for _, x := range b {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	raws := func(negs []Negative) []string {
		out := make([]string, len(negs))
		for i, n := range negs {
			out[i] = n.Raw + "|" + n.Kind
		}
		return out
	}
	for i, s := range testScenes(400) {
		capRNG := func() *rand.Rand { return NewRNG(9, i, streamCaptions) }
		short, full := styledCaptions(s, capRNG(), StyleShort), styledCaptions(s, capRNG(), StyleFull)
		if !slices.Equal(short, Captions(s, capRNG())) {
			t.Fatalf("scene %d: short captions differ from Captions", i)
		}
		if got, want := styledCaptions(s, capRNG(), StyleBoth), merge(short, full); !slices.Equal(got, want) {
			t.Errorf("scene %d: both captions\n got %q\nwant %q", i, got, want)
		}
		if len(s.Objects) > 1 && !slices.Equal(short, full) {
			t.Errorf("scene %d: %d objects, yet short %q != full %q", i, len(s.Objects), short, full)
		}
		negRNG := func() *rand.Rand { return NewRNG(9, i, streamNegatives) }
		ns, nf := styledNegatives(s, DefaultNegatives, negRNG(), StyleShort), styledNegatives(s, DefaultNegatives, negRNG(), StyleFull)
		if !slices.Equal(ns, Negatives(s, DefaultNegatives, negRNG())) {
			t.Fatalf("scene %d: short negatives differ from Negatives", i)
		}
		if got, want := raws(styledNegatives(s, DefaultNegatives, negRNG(), StyleBoth)), merge(raws(ns), raws(nf)); !slices.Equal(got, want) {
			t.Errorf("scene %d: both negatives\n got %q\nwant %q", i, got, want)
		}
		// The same false claims in both styles: same kinds in the same order.
		if len(ns) != len(nf) || !slices.EqualFunc(ns, nf, func(a, b Negative) bool { return a.Kind == b.Kind }) {
			t.Errorf("scene %d: short and full negatives differ in kinds: %+v vs %+v", i, ns, nf)
		}
	}
}

func TestCaptionsReproducible(t *testing.T) {
	s := NewScene(3, 17)
	a := Captions(s, NewRNG(3, 17, streamCaptions))
	b := Captions(s, NewRNG(3, 17, streamCaptions))
	if !slices.Equal(a, b) {
		t.Fatalf("captions differ: %q vs %q", a, b)
	}
}

func TestHolds(t *testing.T) {
	s := Scene{
		Background: Background{Kind: BgNoise, Colors: []string{"#808080"}, Names: []string{"grey"}},
		Objects: []Object{
			{Shape: "circle", Color: "red", Size: SizeSmall, X: 0.2, Y: 0.5, R: 0.085},
			{Shape: "square", Color: "blue", Size: SizeLarge, X: 0.6, Y: 0.55, R: 0.16},
			{Shape: "star", Color: "red", Size: SizeLarge, X: 0.62, Y: 0.15, R: 0.16},
		},
		Relations: []Relation{{0, LeftOf, 1}, {2, Above, 1}},
	}
	one := Scene{Background: Background{Kind: BgPlain, Colors: []string{"#d9cfb8"}, Names: []string{"beige"}},
		Objects: []Object{{Shape: "ring", Color: "cyan", Size: SizeSmall, X: 0.8, Y: 0.15, R: 0.085}}}
	tests := []struct {
		name    string
		scene   Scene
		caption string
		want    bool
	}{
		{"left", s, "a small red circle to the left of a large blue square", true},
		{"short left", s, "a small red circle left of a large blue square", true},
		{"reversed", s, "a small red circle to the right of a large blue square", false},
		{"converse", s, "a large blue square to the right of a small red circle", true},
		{"with on its left", s, "a large blue square with a small red circle on its left", true},
		{"with on its right", s, "a large blue square with a small red circle on its right", false},
		{"sides", s, "on the left a small red circle, on the right a large blue square", true},
		{"sides swapped", s, "on the right a small red circle, on the left a large blue square", false},
		{"sides inconsistent", s, "on the left a small red circle, on the left a large blue square", false},
		{"above", s, "a large red star above a large blue square", true},
		{"below", s, "a large red star below a large blue square", false},
		{"wrong colour", s, "a small green circle left of a large blue square", false},
		{"wrong size", s, "a large red circle left of a large blue square", false},
		{"colour swap", s, "a small blue circle left of a large red square", false},
		{"triple", s, "a small red circle left of a large blue square, and a large red star above the square", true},
		{"triple ref first", s, "a large blue square to the right of a small red circle, and a large red star above the square", true},
		{"triple wrong second", s, "a small red circle left of a large blue square, and a large red star below the square", false},
		{"triple ambiguous ref", s, "a small red circle left of a large red star, and a large blue square below the red", false},
		{"with two", s, "a large blue square with a small red circle on its left and a large red star above it", true},
		{"count", s, "a single small red circle", false},
		{"single", one, "a single small cyan ring", true},
		{"bg", one, "a small cyan ring on a plain beige background", true},
		{"bg wrong kind", one, "a small cyan ring on a noisy beige background", false},
		{"region", one, "a small cyan ring at the top right", true},
		{"region wrong", one, "a small cyan ring on the left", false},
		{"one", one, "one cyan ring, small", true},
		{"full count", s, "a single small red circle on the left on a plain white background", false},
		{"full plain", one, "a small cyan ring at the top right on a plain beige background", true},
		{"full single", one, "a single small cyan ring at the top right on a plain beige background", true},
		{"full bg", one, "a small cyan ring on a plain beige background, at the top right", true},
		{"full bg wrong kind", one, "a small cyan ring on a noisy beige background, at the top right", false},
		{"full bg wrong colour", one, "a small cyan ring at the top right on a plain grey background", false},
		{"full region", one, "at the top right, a small cyan ring on a plain beige background", true},
		{"full region wrong", one, "at the top left, a small cyan ring on a plain beige background", false},
		{"full one", one, "one cyan ring, small, at the top right, on a plain beige background", true},
		{"full one wrong size", one, "one cyan ring, large, at the top right, on a plain beige background", false},
		{"full single bg first", one, "on a plain beige background, a single small cyan ring at the top right", true},
		{"full single region last", one, "a single small cyan ring on a plain beige background, at the top right", true},
		{"full single region last wrong", one, "a single small cyan ring on a plain beige background, at the bottom", false},
		{"region then bg, no comma", one, "a small cyan ring at the top right, on a plain beige background", false},
		{"unparseable", one, "a cyan ring", false},
		{"added object", one, "a small cyan ring left of a large red star", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Holds(tc.scene, tc.caption); got != tc.want {
				t.Errorf("Holds(%q) = %v, want %v", tc.caption, got, tc.want)
			}
		})
	}
}

func TestNegatives(t *testing.T) {
	for _, st := range []Style{StyleShort, StyleFull, StyleBoth} {
		t.Run(string(st), func(t *testing.T) { testNegatives(t, st) })
	}
}

func testNegatives(t *testing.T, st Style) {
	kindsSeen := map[string]int{}
	for i, s := range testScenes(400) {
		negs := styledNegatives(s, DefaultNegatives, NewRNG(1, i, streamNegatives), st)
		if len(negs) < 4 {
			t.Errorf("scene %d (%d objects): only %d negatives", i, len(s.Objects), len(negs))
		}
		truth := append(allCaptions(s, StyleShort), allCaptions(s, StyleFull)...)
		applicable := applicableNegKinds(s)
		raw := map[string]bool{}
		for j, n := range negs {
			if raw[n.Raw] {
				t.Errorf("scene %d: negative %q twice", i, n.Raw)
			}
			raw[n.Raw] = true
			kindsSeen[n.Kind]++
			if Holds(s, n.Raw) || slices.Contains(truth, n.Raw) {
				t.Errorf("scene %d: negative %q (%s) is true", i, n.Raw, n.Kind)
			}
			if _, ok := parse(n.Raw); !ok {
				t.Errorf("scene %d: negative %q does not parse", i, n.Raw)
			}
			// Kinds are dropped only when they cannot be produced, so by the
			// first repeat every kind that appears at all has appeared.
			if slices.ContainsFunc(negs[:j], func(m Negative) bool { return m.Kind == n.Kind }) &&
				!slices.Equal(kindSet(negs[:j]), kindSet(negs)) {
				t.Errorf("scene %d: kind %s repeated before all kinds were used: %+v", i, n.Kind, negs)
			}
			if !slices.Contains(applicable, n.Kind) {
				t.Errorf("scene %d: inapplicable kind %s", i, n.Kind)
			}
			// Independent check: an attribute negative must mention an
			// object that is not in the scene.
			switch n.Kind {
			case NegColour, NegCount:
				if allObjectsPresent(s, n.Raw) {
					t.Errorf("scene %d: %s negative %q mentions only present objects", i, n.Kind, n.Raw)
				}
			}
		}
	}
	for _, k := range negKinds {
		if kindsSeen[k] == 0 {
			t.Errorf("kind %s never produced", k)
		}
	}
}

// allObjectsPresent reports whether every "size colour shape" phrase in the
// caption names an object of the scene.
func allObjectsPresent(s Scene, caption string) bool {
	w := strings.Fields(strings.ReplaceAll(caption, ",", ""))
	if len(w) >= 4 && w[0] == "one" { // "one red circle, small[, <region>, <background>]"
		w = []string{w[3], w[1], w[2]}
	}
	for i := 0; i+2 < len(w); i++ {
		if (w[i] == SizeSmall || w[i] == SizeLarge) && slices.Contains(Shapes, w[i+2]) {
			if _, ok := objectColour(w[i+1]); !ok {
				continue
			}
			if !slices.ContainsFunc(s.Objects, func(o Object) bool {
				return o.Size == w[i] && o.Color == w[i+1] && o.Shape == w[i+2]
			}) {
				return false
			}
		}
	}
	return true
}

func kindSet(negs []Negative) []string {
	var out []string
	for _, n := range negs {
		out = append(out, n.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
