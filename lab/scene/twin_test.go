package scene

import (
	"reflect"
	"testing"
)

func TestTwinsDifferOnlyInBinding(t *testing.T) {
	kinds := map[string]int{}
	for i := range 300 {
		s, tw, kind := NewTwinScene(9, i)
		kinds[kind]++
		if n := len(s.Objects); n < 2 || n > 3 || len(tw.Objects) != n {
			t.Fatalf("twin %d: object counts %d/%d", i, n, len(tw.Objects))
		}
		if !reflect.DeepEqual(s.Background, tw.Background) {
			t.Errorf("twin %d: backgrounds differ", i)
		}
		if !validLayout(tw.Objects, tw.Relations) || !distinctTriples(tw.Objects) {
			t.Errorf("twin %d: invalid twin layout %+v", i, tw)
		}
		var diff []int
		for j := range s.Objects {
			a, b := s.Objects[j], tw.Objects[j]
			if a.Shape != b.Shape {
				t.Errorf("twin %d: shape changed", i)
			}
			if a != b {
				diff = append(diff, j)
			}
		}
		relDiff := 0
		for j := range s.Relations {
			r, q := s.Relations[j], tw.Relations[j]
			if r != q {
				relDiff++
				if q.Relation != inverse(r.Relation) || q.Subject != r.Subject || q.Object != r.Object {
					t.Errorf("twin %d: relation changed oddly: %+v -> %+v", i, r, q)
				}
			}
		}
		switch kind {
		case TwinSwapColour, TwinSwapSize:
			if len(diff) != 2 || relDiff != 0 {
				t.Fatalf("twin %d (%s): %d objects and %d relations differ", i, kind, len(diff), relDiff)
			}
			a0, a1 := s.Objects[diff[0]], s.Objects[diff[1]]
			b0, b1 := tw.Objects[diff[0]], tw.Objects[diff[1]]
			if kind == TwinSwapColour {
				a0.Color, a1.Color = a1.Color, a0.Color
			} else {
				a0.Size, a1.Size, a0.R, a1.R = a1.Size, a0.Size, a1.R, a0.R
			}
			if a0 != b0 || a1 != b1 {
				t.Errorf("twin %d (%s): not a pure swap: %+v vs %+v", i, kind, s.Objects, tw.Objects)
			}
		case TwinRelation:
			if relDiff != 1 || len(diff) == 0 {
				t.Fatalf("twin %d: relation twin changed %d relations, %d objects", i, relDiff, len(diff))
			}
			for _, j := range diff {
				a, b := s.Objects[j], tw.Objects[j]
				a.X, a.Y = b.X, b.Y
				if a != b {
					t.Errorf("twin %d: relation twin changed more than position of object %d", i, j)
				}
			}
		default:
			t.Fatalf("twin %d: unknown kind %q", i, kind)
		}
		for _, c := range allCaptions(tw, StyleShort) {
			if Holds(s, c) {
				t.Errorf("twin %d: twin caption %q holds for the original", i, c)
			}
			if !Holds(tw, c) {
				t.Errorf("twin %d: twin caption %q does not hold for the twin", i, c)
			}
		}
		for _, c := range allCaptions(s, StyleShort) {
			if Holds(tw, c) {
				t.Errorf("twin %d: caption %q holds for the twin", i, c)
			}
		}
	}
	for _, k := range twinKinds {
		if kinds[k] < 30 {
			t.Errorf("twin kind %s used only %d times in 300", k, kinds[k])
		}
	}
}
