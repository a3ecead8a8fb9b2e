package scene

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// twoObjects: a small red circle on the left, a large blue square on the right, on a plain
// white background.
var twoObjects = Scene{
	Background: Background{Kind: BgPlain, Names: []string{"beige"}},
	Objects: []Object{
		{Shape: "circle", Color: "red", Size: SizeSmall, X: 0.2, Y: 0.5, R: 0.1},
		{Shape: "square", Color: "blue", Size: SizeLarge, X: 0.8, Y: 0.5, R: 0.15},
	},
}

func TestQueryTrueOf(t *testing.T) {
	red := Pattern{Color: "red", Shape: "circle"}
	blue := Pattern{Color: "blue", Shape: "square"}
	for _, tc := range []struct {
		name string
		q    Query
		want bool
	}{
		{"a red circle: partial, true beside another object", Query{Objects: []Pattern{red}}, true},
		{"a circle", Query{Objects: []Pattern{{Shape: "circle"}}}, true},
		{"something blue", Query{Objects: []Pattern{{Color: "blue"}}}, true},
		{"a large red circle", Query{Objects: []Pattern{{Size: SizeLarge, Color: "red", Shape: "circle"}}}, false},
		{"a blue circle: attributes bound to one object", Query{Objects: []Pattern{{Color: "blue", Shape: "circle"}}}, false},
		{"a red circle and a blue square", Query{Objects: []Pattern{red, blue}}, true},
		{"two red circles need two objects", Query{Objects: []Pattern{red, red}}, false},
		{"a red circle left of a blue square", Query{Objects: []Pattern{red, blue}, Relation: LeftOf}, true},
		{"a red circle right of a blue square", Query{Objects: []Pattern{red, blue}, Relation: RightOf}, false},
		{"a red circle on the left", Query{Objects: []Pattern{red}, Region: "on the left"}, true},
		{"a red circle in the centre", Query{Objects: []Pattern{red}, Region: "in the centre"}, false},
		{"a red circle on a beige background", Query{Objects: []Pattern{red}, Background: "beige"}, true},
		{"a red circle on a charcoal background", Query{Objects: []Pattern{red}, Background: "charcoal"}, false},
		{"exactly two objects", Query{Count: 2}, true},
		{"exactly three objects", Query{Count: 3}, false},
		{"only a red circle", Query{Objects: []Pattern{red}, Only: true}, false},
		{"only a red circle and a blue square", Query{Objects: []Pattern{red, blue}, Only: true}, true},
		{"a red circle and no square", Query{Objects: []Pattern{red}, Without: &Pattern{Shape: "square"}}, false},
		{"a red circle and no star", Query{Objects: []Pattern{red}, Without: &Pattern{Shape: "star"}}, true},
		{"a red circle and nothing green", Query{Objects: []Pattern{red}, Without: &Pattern{Color: "green"}}, true},
	} {
		if got := tc.q.TrueOf(twoObjects); got != tc.want {
			t.Errorf("%s: TrueOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestQueriesOpenWorld: every drawn query is true of the scene it came from, names its kind in
// the text's terms, and a query that asks for no completeness stays true when an object it says
// nothing about joins the scene.
func TestQueriesOpenWorld(t *testing.T) {
	scenes := make([]Scene, 300)
	for i := range scenes {
		scenes[i] = NewScene(4242, i)
	}
	qs := QueriesFor(scenes, 220, 9)
	if len(qs) != 220 {
		t.Fatalf("%d queries, want 220", len(qs))
	}
	kinds := map[string]int{}
	extra := Object{Shape: "star", Color: "gold", Size: SizeSmall, X: 0.5, Y: 0.95, R: 0.02}
	for _, q := range qs {
		kinds[q.Kind]++
		n := 0
		for _, s := range scenes {
			if !q.TrueOf(s) {
				continue
			}
			n++
			if q.Only || q.Count > 0 || (q.Without != nil && q.Without.Matches(extra)) {
				continue
			}
			grown := s
			grown.Objects = append(append([]Object(nil), s.Objects...), extra)
			if !q.TrueOf(grown) {
				t.Errorf("%q (%s): false once an unrelated object joins a scene it is true of", q.Text, q.Kind)
			}
		}
		if n == 0 {
			t.Errorf("%q (%s) is true of no scene", q.Text, q.Kind)
		}
	}
	for _, k := range QueryKinds {
		if kinds[k] < 5 {
			t.Errorf("kind %s: %d queries, want at least 5", k, kinds[k])
		}
	}
	if again := QueriesFor(scenes, 220, 9); !reflect.DeepEqual(again, qs) {
		t.Error("the same seed drew other queries")
	}
}

func TestQueryText(t *testing.T) {
	for _, tc := range []struct {
		p    Pattern
		want string
	}{
		{Pattern{Shape: "circle"}, "a circle"},
		{Pattern{Color: "red"}, "something red"},
		{Pattern{Size: SizeLarge, Color: "red", Shape: "circle"}, "a large red circle"},
	} {
		if got := tc.p.phrase(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestQueryEdits: every edit of a query differs from it in the aspect it names and renders a text
// of its own; the edits that contradict twoObjects are false there, and the source is untouched.
func TestQueryEdits(t *testing.T) {
	red := Pattern{Color: "red", Shape: "circle"}
	blue := Pattern{Color: "blue", Shape: "square"}
	rel := Query{Kind: QueryRelation, Objects: []Pattern{red, blue}, Relation: LeftOf}
	rel.render(NewRNG(1, 0, streamQueries))
	before := rel.clone()
	edits := rel.Edits(NewRNG(1, 0, streamQueryEdits))
	if !reflect.DeepEqual(rel, before) {
		t.Fatalf("Edits changed its query: %+v", rel)
	}
	got := map[string]Query{}
	for _, e := range edits {
		if e.Text == rel.Text || e.Text == "" {
			t.Errorf("edit %s: text %q", e.Edit, e.Text)
		}
		got[e.Edit] = e
	}
	// two colours, two shapes, the relation, the colour swap, the pair without the relation
	if len(edits) != 7 {
		t.Errorf("%d edits of %q, want 7: %v", len(edits), rel.Text, got)
	}
	if b := got[EditBroader]; b.Kind != QueryPair || b.Relation != "" || !b.TrueOf(twoObjects) {
		t.Errorf("broader edit of %q: %+v", rel.Text, b)
	}
	for kind, want := range map[string]bool{EditRelation: false, EditSwapColour: false, EditColour: false, EditShape: false} {
		e, ok := got[kind]
		if !ok {
			t.Errorf("no %s edit", kind)
			continue
		}
		if e.TrueOf(twoObjects) != want {
			t.Errorf("%s edit %q: TrueOf = %v, want %v", kind, e.Text, !want, want)
		}
	}
	if e := got[EditSwapColour]; e.Objects[0].Color != "blue" || e.Objects[1].Color != "red" {
		t.Errorf("swap: %+v", e.Objects)
	}

	one := Query{Kind: QueryColourShape, Objects: []Pattern{red}}
	one.render(NewRNG(2, 0, streamQueries))
	var only *Query
	for _, e := range one.Edits(NewRNG(2, 0, streamQueryEdits)) {
		if e.Edit == EditOnly {
			only = &e
		}
	}
	if only == nil || !only.Only || only.TrueOf(twoObjects) || !strings.Contains(only.Text, "red circle") {
		t.Errorf("the completeness edit of %q: %+v", one.Text, only)
	}
	// every broader form holds wherever its query does
	for _, q := range QueriesFor([]Scene{twoObjects, NewScene(5, 1), NewScene(5, 2)}, 40, 4) {
		for _, e := range q.Edits(NewRNG(4, 0, streamQueryEdits)) {
			if e.Edit == EditBroader && (!e.TrueOf(twoObjects) && q.TrueOf(twoObjects) || e.Kind != e.kindOf()) {
				t.Errorf("%q, broader form of %q: false where it holds, or kind %s", e.Text, q.Text, e.Kind)
			}
		}
	}
	count := Query{Kind: QueryCount, Count: 2}
	for _, e := range count.Edits(NewRNG(3, 0, streamQueryEdits)) {
		if e.Count == 2 || e.Count < 1 || e.Count > 3 || e.TrueOf(twoObjects) {
			t.Errorf("count edit %q: count %d", e.Text, e.Count)
		}
	}
}

// TestQueriesEdits: with edits, each edit follows its query, names it, and has its own truth.
func TestQueriesEdits(t *testing.T) {
	var ds Dataset
	for i := range 200 {
		ds.Images = append(ds.Images, ImageRecord{ImgID: i, Scene: NewScene(77, i)})
	}
	set := Queries(ds, 60, 3, true)
	plain := Queries(ds, 60, 3, false)
	if len(plain.Queries) != 60 || len(set.Queries) <= 2*60 {
		t.Fatalf("%d queries without edits, %d with", len(plain.Queries), len(set.Queries))
	}
	texts := map[string]bool{}
	linked := 0
	for i, q := range set.Queries {
		linked += len(q.Edits)
		if texts[q.Text] {
			t.Errorf("%q twice", q.Text)
		}
		texts[q.Text] = true
		var want []int
		for _, im := range ds.Images {
			if q.Query.TrueOf(im.Scene) {
				want = append(want, im.ImgID)
			}
		}
		if !slices.Equal(q.TrueOf, want) {
			t.Errorf("%q: true of %v, want %v", q.Text, q.TrueOf, want)
		}
		if i < len(plain.Queries) && q.Text != plain.Queries[i].Text {
			t.Errorf("query %d: %q, without edits %q", i, q.Text, plain.Queries[i].Text)
		}
		if q.EditOf != nil && (*q.EditOf >= i || set.Queries[*q.EditOf].EditOf != nil || q.Edit == "" ||
			!slices.Contains(set.Queries[*q.EditOf].Edits, i)) {
			t.Errorf("%q: edit of %d (%s)", q.Text, *q.EditOf, q.Edit)
		}
		if i >= len(plain.Queries) && (q.EditOf == nil || len(q.Edits) > 0) {
			t.Errorf("%q: an edit that is not one", q.Text)
		}
		for _, j := range q.Edits {
			if j == i || j >= len(set.Queries) {
				t.Errorf("%q: edit %d", q.Text, j)
			}
		}
	}
	if linked < len(set.Queries)-len(plain.Queries) {
		t.Errorf("%d edit links for %d edits", linked, len(set.Queries)-len(plain.Queries))
	}
}
