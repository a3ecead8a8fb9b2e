package scene

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
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
	Edit       string    `json:"edit,omitempty"`       // for an edit (Edits), how it differs
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

// Edit kinds: how an edited query differs from the one it was made from.
const (
	EditColour     = "colour"      // one object's colour changed
	EditShape      = "shape"       // one object's shape changed
	EditSize       = "size"        // one object's size changed
	EditRelation   = "relation"    // the relation reversed
	EditSwapColour = "swap_colour" // the two objects' colours swapped
	EditRegion     = "region"      // another region
	EditBackground = "background"  // another background colour
	EditCount      = "count"       // another object count
	EditOnly       = "only"        // made complete: "only a red circle"
	EditWithout    = "without"     // another kind of object required absent
	EditBroader    = "broader"     // one condition dropped: true wherever the query is, and elsewhere
)

// Edits returns the query changed in one aspect each way its meaning allows (colour, shape and
// size of each object, the relation reversed, two objects' colours swapped, another region,
// background or count, made complete, another absent kind), then its broader forms (one
// condition dropped), each rendered anew with rng. An edit is usually false where the query is
// true, but not always ("only a red circle" of a lone red circle; a broader form always holds
// there), so training takes each one's truth from TrueOf, never from the edit itself.
func (q Query) Edits(rng *rand.Rand) []Query {
	var out []Query
	add := func(kind string, change func(e *Query)) {
		e := q.clone()
		change(&e)
		e.render(rng)
		e.Edit = kind
		out = append(out, e)
	}
	for k, p := range q.Objects {
		if p.Color != "" {
			add(EditColour, func(e *Query) { e.Objects[k].Color = other(rng, colourNames(ObjectColours), p.Color) })
		}
		if p.Shape != "" {
			add(EditShape, func(e *Query) { e.Objects[k].Shape = other(rng, Shapes, p.Shape) })
		}
		if p.Size != "" {
			add(EditSize, func(e *Query) { e.Objects[k].Size = other(rng, []string{SizeSmall, SizeLarge}, p.Size) })
		}
	}
	if q.Relation != "" {
		add(EditRelation, func(e *Query) { e.Relation = inverse(q.Relation) })
	}
	if len(q.Objects) >= 2 && q.Objects[0].Color != "" && q.Objects[1].Color != "" && q.Objects[0].Color != q.Objects[1].Color {
		add(EditSwapColour, func(e *Query) { e.Objects[0].Color, e.Objects[1].Color = q.Objects[1].Color, q.Objects[0].Color })
	}
	if q.Region != "" {
		add(EditRegion, func(e *Query) { e.Region = other(rng, regionPhrases, q.Region) })
	}
	if q.Background != "" {
		add(EditBackground, func(e *Query) { e.Background = other(rng, colourNames(BackgroundColours), q.Background) })
	}
	if q.Count > 0 {
		add(EditCount, func(e *Query) { e.Count = 1 + (q.Count+rng.IntN(2))%3 })
	}
	if len(q.Objects) == 1 && !q.Only && q.Kind != QueryWithout {
		add(EditOnly, func(e *Query) { e.Kind, e.Only, e.Region, e.Background = QueryOnly, true, "", "" })
	}
	if q.Without != nil {
		add(EditWithout, func(e *Query) {
			w := *q.Without
			if w.Shape != "" {
				w.Shape = other(rng, Shapes, w.Shape)
			} else {
				w.Color = other(rng, colourNames(ObjectColours), w.Color)
			}
			e.Without = &w
		})
	}
	out = append(out, q.broader(rng)...)
	return out
}

// broader returns the query with one of its conditions dropped each way (an object's colour or
// shape, one of two objects, the relation, region, background, completeness or absence): each
// is true wherever q is, and the images where it holds and q does not are q's nearest misses.
func (q Query) broader(rng *rand.Rand) []Query {
	var out []Query
	add := func(change func(e *Query)) {
		e := q.clone()
		change(&e)
		if len(e.Objects) == 0 && e.Count == 0 {
			return
		}
		e.Kind = e.kindOf()
		e.render(rng)
		e.Edit = EditBroader
		out = append(out, e)
	}
	if len(q.Objects) == 1 && q.Objects[0].Color != "" && q.Objects[0].Shape != "" && !q.Only && q.Without == nil &&
		q.Region == "" && q.Background == "" {
		add(func(e *Query) { e.Objects[0].Color, e.Objects[0].Size = "", "" })
		add(func(e *Query) { e.Objects[0].Shape, e.Objects[0].Size = "", "" })
	}
	if len(q.Objects) == 2 && q.Relation == "" && !q.Only {
		add(func(e *Query) { e.Objects = e.Objects[:1] })
		add(func(e *Query) { e.Objects = e.Objects[1:] })
	}
	if q.Relation != "" {
		add(func(e *Query) { e.Relation = "" })
	}
	if q.Region != "" {
		add(func(e *Query) { e.Region = "" })
	}
	if q.Background != "" {
		add(func(e *Query) { e.Background = "" })
	}
	if q.Only {
		add(func(e *Query) { e.Only = false })
	}
	if q.Without != nil {
		add(func(e *Query) { e.Without = nil })
	}
	return out
}

// kindOf names the kind of query q's meaning makes it.
func (q Query) kindOf() string {
	switch {
	case q.Count > 0:
		return QueryCount
	case q.Only:
		return QueryOnly
	case q.Without != nil:
		return QueryWithout
	case q.Relation != "":
		return QueryRelation
	case q.Region != "":
		return QueryRegion
	case q.Background != "":
		return QueryBackground
	case len(q.Objects) >= 2:
		return QueryPair
	}
	p := q.Objects[0]
	switch {
	case p.Size != "" && p.Color != "" && p.Shape != "":
		return QueryFull
	case p.Color != "" && p.Shape != "":
		return QueryColourShape
	case p.Shape != "":
		return QueryShape
	}
	return QueryColour
}

// clone copies q deeply enough that an edit leaves q as it was.
func (q Query) clone() Query {
	e := q
	e.Objects = append([]Pattern(nil), q.Objects...)
	if q.Without != nil {
		w := *q.Without
		e.Without = &w
	}
	return e
}

// other picks a value of vals other than v.
func other(rng *rand.Rand, vals []string, v string) string {
	for {
		if c := vals[rng.IntN(len(vals))]; c != v {
			return c
		}
	}
}

// QueryTruth is a query with the images of a gallery it is true of.
type QueryTruth struct {
	Query
	TrueOf []int `json:"true_of"`           // image ids (ImgID) of the gallery's images it holds in
	EditOf *int  `json:"edit_of,omitempty"` // with edits: the index of the query this one was made as an edit of
	Edits  []int `json:"edits,omitempty"`   // with edits: the indices of this query's edits (drawn ones too)
}

// QuerySet is a queries file: the gallery it was drawn over and each query's truth.
type QuerySet struct {
	Gallery string       `json:"gallery"` // the captions.json the truth refers to
	Seed    uint64       `json:"seed"`
	Images  int          `json:"images"`
	Queries []QueryTruth `json:"queries"`
}

// Queries draws n queries over the dataset's images (seed seeds them) and computes each one's
// truth over every image. With edits, the drawn queries are followed by their Edits whose texts
// are new (EditOf names the query each was made from), and each drawn query lists its edits,
// new or drawn: the near misses a model is trained to reject.
func Queries(ds Dataset, n int, seed uint64, edits bool) QuerySet {
	scenes := make([]Scene, len(ds.Images))
	for i, im := range ds.Images {
		scenes[i] = im.Scene
	}
	set := QuerySet{Seed: seed, Images: len(ds.Images)}
	drawn := QueriesFor(scenes, n, seed)
	index := make(map[string]int, len(drawn))
	var all []QueryTruth
	for _, q := range drawn {
		index[q.Text] = len(all)
		all = append(all, QueryTruth{Query: q})
	}
	rng := NewRNG(seed, 0, streamQueryEdits)
	for src := range len(drawn) {
		if !edits {
			break
		}
		for _, e := range all[src].Query.Edits(rng) {
			j, ok := index[e.Text]
			if !ok {
				j = len(all)
				index[e.Text] = j
				all = append(all, QueryTruth{Query: e, EditOf: &src})
			}
			if j != src && !slices.Contains(all[src].Edits, j) {
				all[src].Edits = append(all[src].Edits, j)
			}
		}
	}
	truth(all, ds.Images)
	set.Queries = all
	return set
}

// truth fills in each query's TrueOf over images, the queries split among the CPUs.
func truth(qs []QueryTruth, images []ImageRecord) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(qs); i += workers {
				qs[i].TrueOf = []int{}
				for _, im := range images {
					if qs[i].Query.TrueOf(im.Scene) {
						qs[i].TrueOf = append(qs[i].TrueOf, im.ImgID)
					}
				}
			}
		}()
	}
	wg.Wait()
}
