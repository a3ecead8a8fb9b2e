package scene

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Query kinds: what a person types into a search box, by the parts of the scene graph it
// names. Truth is open-world: a query is true of a scene when everything it says holds there,
// and it asks for completeness only with a completeness word ("only", "a single", "nothing
// else") or an exact count.
const (
	QueryShape       = "shape"        // "a circle"
	QueryColour      = "colour"       // "something red"
	QueryColourShape = "colour-shape" // "a red circle"
	QueryFull        = "full"         // "a small red circle"
	QueryPair        = "pair"         // "a red circle and a blue square"
	QueryRelation    = "relation"     // "a red circle left of a blue square"
	QueryRegion      = "region"       // "a red circle at the top left"
	QueryBackground  = "background"   // "a red circle on a blue background"
	QueryCount       = "count"        // "exactly two objects"
	QueryOnly        = "only"         // "only a red circle"
	QueryWithout     = "without"      // "a red circle and no square"
)

// QueryKinds lists the kinds in the order reports use.
var QueryKinds = []string{QueryShape, QueryColour, QueryColourShape, QueryFull, QueryPair, QueryRelation,
	QueryRegion, QueryBackground, QueryCount, QueryOnly, QueryWithout}

// Pattern describes objects by any of size, colour and shape ("" matches any).
type Pattern struct {
	Size  string `json:"size,omitempty"`
	Color string `json:"color,omitempty"`
	Shape string `json:"shape,omitempty"`
}

// Matches reports whether o fits the pattern.
func (p Pattern) Matches(o Object) bool {
	return (p.Size == "" || p.Size == o.Size) && (p.Color == "" || p.Color == o.Color) &&
		(p.Shape == "" || p.Shape == o.Shape)
}

// phrase is "a [size] [colour] shape", "something [size] [colour]" without a shape.
func (p Pattern) phrase() string {
	words := strings.Fields(p.Size + " " + p.Color)
	if p.Shape == "" {
		return strings.Join(append([]string{"something"}, words...), " ")
	}
	return "a " + strings.Join(append(words, p.Shape), " ")
}

// noun is the pattern without its article, for "no square", "nothing red".
func (p Pattern) noun() string {
	if p.Shape == "" {
		return strings.TrimPrefix(p.phrase(), "something ")
	}
	return strings.TrimPrefix(p.phrase(), "a ")
}

// Query is a search-box query with its meaning: the objects it names (each a distinct object of
// the scene), a relation between the first two, the first one's region, the background colour,
// an exact object count, completeness, and a kind of object that must be absent.
type Query struct {
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	Objects    []Pattern `json:"objects,omitempty"`
	Relation   string    `json:"relation,omitempty"`   // Objects[0] Relation Objects[1]
	Region     string    `json:"region,omitempty"`     // where Objects[0] lies ("at the top left", ...)
	Background string    `json:"background,omitempty"` // the background's colour name
	Count      int       `json:"count,omitempty"`      // the scene holds exactly this many objects
	Only       bool      `json:"only,omitempty"`       // the scene holds nothing but Objects
	Without    *Pattern  `json:"without,omitempty"`    // no object of the scene matches
}

// TrueOf reports whether everything the query says holds in s: the single definition of a
// query's truth for training, evaluation and tests.
func (q Query) TrueOf(s Scene) bool {
	if q.Count > 0 && len(s.Objects) != q.Count {
		return false
	}
	if q.Only && len(s.Objects) != len(q.Objects) {
		return false
	}
	if q.Background != "" && (len(s.Background.Names) == 0 || s.Background.Names[0] != q.Background) {
		return false
	}
	if q.Without != nil {
		for _, o := range s.Objects {
			if q.Without.Matches(o) {
				return false
			}
		}
	}
	return q.assign(s, make([]int, 0, len(q.Objects)))
}

// assign tries every assignment of distinct scene objects to the query's objects.
func (q Query) assign(s Scene, chosen []int) bool {
	k := len(chosen)
	if k == len(q.Objects) {
		if q.Region != "" && (k == 0 || region(s.Objects[chosen[0]].X, s.Objects[chosen[0]].Y) != q.Region) {
			return false
		}
		return q.Relation == "" || (k >= 2 && relationHolds(s.Objects[chosen[0]], q.Relation, s.Objects[chosen[1]]))
	}
next:
	for j, o := range s.Objects {
		for _, c := range chosen {
			if c == j {
				continue next
			}
		}
		if q.Objects[k].Matches(o) && q.assign(s, append(chosen, j)) {
			return true
		}
	}
	return false
}

var countWords = []string{"", "one", "two", "three"}

// render sets q.Text from its meaning, in one of a few phrasings per kind chosen by rng.
func (q *Query) render(rng *rand.Rand) {
	a := ""
	if len(q.Objects) > 0 {
		a = q.Objects[0].phrase()
	}
	switch q.Kind {
	case QueryPair:
		q.Text = a + " and " + q.Objects[1].phrase()
	case QueryRelation:
		q.Text = a + " " + []string{q.Relation, longRel(q.Relation)}[rng.IntN(2)] + " " + q.Objects[1].phrase()
	case QueryRegion:
		q.Text = a + " " + q.Region
	case QueryBackground:
		q.Text = a + " on a " + q.Background + " background"
	case QueryCount:
		q.Text = []string{"exactly ", ""}[rng.IntN(2)] + countWords[q.Count] + " objects"
		if q.Count == 1 {
			q.Text = []string{"exactly one object", "one object only"}[rng.IntN(2)]
		}
	case QueryOnly:
		q.Text = []string{"only " + a, "a single " + strings.TrimPrefix(a, "a "), a + " and nothing else"}[rng.IntN(3)]
	case QueryWithout:
		q.Text = a + []string{" and no ", " without any "}[rng.IntN(2)] + q.Without.noun()
		if q.Without.Shape == "" {
			q.Text = a + " and nothing " + q.Without.noun()
		}
	default:
		q.Text = a
	}
}

// QueriesFor draws up to n queries over a gallery of scenes with their own RNG seed, kinds in
// turn: each is derived from a random scene so that it is true of at least that one. A text
// drawn before is not drawn again, so kinds with few texts (counts) run out and the others fill
// the set.
func QueriesFor(scenes []Scene, n int, seed uint64) []Query {
	rng := NewRNG(seed, 0, streamQueries)
	seen := map[string]bool{}
	var out []Query
	// turn counts the kinds' turns; idle, the turns in a row that found no new text
	for turn, idle := 0, 0; len(out) < n && idle < len(QueryKinds) && len(scenes) > 0; turn++ {
		kind := QueryKinds[turn%len(QueryKinds)]
		idle++
		for try := 0; try < 50; try++ {
			q, ok := deriveQuery(rng, kind, scenes[rng.IntN(len(scenes))])
			if ok && !seen[q.Text] {
				seen[q.Text] = true
				out = append(out, q)
				idle = 0
				break
			}
		}
	}
	return out
}

// deriveQuery builds a query of kind that is true of s; false when s cannot have one.
func deriveQuery(rng *rand.Rand, kind string, s Scene) (Query, bool) {
	objs := s.Objects
	if len(objs) == 0 {
		return Query{}, false
	}
	o := objs[rng.IntN(len(objs))]
	q := Query{Kind: kind}
	switch kind {
	case QueryShape:
		q.Objects = []Pattern{{Shape: o.Shape}}
	case QueryColour:
		q.Objects = []Pattern{{Color: o.Color}}
	case QueryColourShape:
		q.Objects = []Pattern{{Color: o.Color, Shape: o.Shape}}
	case QueryFull:
		q.Objects = []Pattern{{Size: o.Size, Color: o.Color, Shape: o.Shape}}
	case QueryPair, QueryRelation:
		if len(objs) < 2 {
			return q, false
		}
		i := rng.IntN(len(objs))
		j := (i + 1 + rng.IntN(len(objs)-1)) % len(objs)
		q.Objects = []Pattern{{Color: objs[i].Color, Shape: objs[i].Shape}, {Color: objs[j].Color, Shape: objs[j].Shape}}
		if kind == QueryRelation {
			for _, r := range Relations {
				if relationHolds(objs[i], r, objs[j]) {
					q.Relation = r
				}
			}
			if q.Relation == "" {
				return q, false
			}
		}
	case QueryRegion:
		q.Objects = []Pattern{{Color: o.Color, Shape: o.Shape}}
		q.Region = region(o.X, o.Y)
	case QueryBackground:
		if len(s.Background.Names) == 0 {
			return q, false
		}
		q.Objects = []Pattern{{Color: o.Color, Shape: o.Shape}}
		q.Background = s.Background.Names[0]
	case QueryCount:
		q.Count = len(objs)
	case QueryOnly:
		if len(objs) != 1 {
			return q, false
		}
		q.Objects = []Pattern{{Color: o.Color, Shape: o.Shape}}
		q.Only = true
	case QueryWithout:
		q.Objects = []Pattern{{Color: o.Color, Shape: o.Shape}}
		absent := []Pattern{{Shape: Shapes[rng.IntN(len(Shapes))]}, {Color: ObjectColours[rng.IntN(len(ObjectColours))].Name}}[rng.IntN(2)]
		for _, x := range objs {
			if absent.Matches(x) {
				return q, false
			}
		}
		q.Without = &absent
	default:
		panic(fmt.Sprintf("scene: unknown query kind %q", kind))
	}
	q.render(rng)
	if !q.TrueOf(s) { // a query derived from s must hold there
		panic(fmt.Sprintf("scene: derived query %q is false of its scene", q.Text))
	}
	return q, true
}

// QueryTruth is a query with the images of a gallery it is true of.
type QueryTruth struct {
	Query
	TrueOf []int `json:"true_of"` // image ids (ImgID) of the gallery's images it holds in
}

// QuerySet is a queries file: the gallery it was drawn over and each query's truth.
type QuerySet struct {
	Gallery string       `json:"gallery"` // the captions.json the truth refers to
	Seed    uint64       `json:"seed"`
	Images  int          `json:"images"`
	Queries []QueryTruth `json:"queries"`
}

// Queries draws n queries over the dataset's images (seed seeds them) and computes each one's
// truth over every image.
func Queries(ds Dataset, n int, seed uint64) QuerySet {
	scenes := make([]Scene, len(ds.Images))
	for i, im := range ds.Images {
		scenes[i] = im.Scene
	}
	set := QuerySet{Seed: seed, Images: len(ds.Images)}
	for _, q := range QueriesFor(scenes, n, seed) {
		qt := QueryTruth{Query: q, TrueOf: []int{}}
		for _, im := range ds.Images {
			if q.TrueOf(im.Scene) {
				qt.TrueOf = append(qt.TrueOf, im.ImgID)
			}
		}
		set.Queries = append(set.Queries, qt)
	}
	return set
}
