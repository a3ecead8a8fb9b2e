package scene

import (
	"math"
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
	for i, s := range testScenes(400) {
		caps := Captions(s, NewRNG(1, i, streamCaptions))
		if len(caps) != NumCaptions {
			t.Fatalf("scene %d: %d captions", i, len(caps))
		}
		if len(slices.Compact(slices.Sorted(slices.Values(caps)))) != NumCaptions {
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
	kindsSeen := map[string]int{}
	for i, s := range testScenes(400) {
		negs := Negatives(s, DefaultNegatives, NewRNG(1, i, streamNegatives))
		if len(negs) < 4 {
			t.Errorf("scene %d (%d objects): only %d negatives", i, len(s.Objects), len(negs))
		}
		truth := allCaptions(s)
		applicable := applicableNegKinds(s)
		for j, n := range negs {
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
	if len(w) == 4 && w[0] == "one" { // "one red circle, small"
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
