package scene

import (
	"reflect"
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
