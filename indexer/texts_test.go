package indexer

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseTexts(t *testing.T) {
	cases := []struct {
		name, in string
		want     []TextLine
		err      string // substring; "" for success
	}{
		{"plain", "a red circle\n\n  a blue square  \r\n", []TextLine{{Text: "a red circle", Line: 1}, {Text: "a blue square", Line: 3}}, ""},
		{"json lines", "{\"id\": \"c1\", \"text\": \"a cat\"}\n\n{\"id\": 7, \"text\": \" a dog \"}\n{\"text\": \"no id\"}\n",
			[]TextLine{{ID: "c1", Text: "a cat", Line: 1}, {ID: "7", Text: "a dog", Line: 3}, {Text: "no id", Line: 4}}, ""},
		{"bad json line", "{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2, \"text\": \"ok\"}\n{\"id\": 3, \"text\": \"broken}\n", nil, "line 3: invalid JSON"},
		{"json without text", "{\"id\": 1}\n", nil, "line 1: no \"text\""},
		{"json id of a bad type", "{\"id\": [1], \"text\": \"x\"}\n", nil, "line 1: \"id\" must be"},
		{"trailing value", "{\"text\": \"x\"} {\"text\": \"y\"}\n", nil, "line 1: more than one"},
		{"empty", "\n\n", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTexts(strings.NewReader(c.in))
			if c.err != "" {
				if !errors.Is(err, ErrBadTexts) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want ErrBadTexts with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("line %d: got %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestAddTexts(t *testing.T) {
	lib := testLib(t, "")
	m, info := testModel(t)
	ix, err := New(lib, m, info, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := ParseTexts(strings.NewReader("a red circle\na blue square\na green cross\n"))
	s, err := ix.AddTexts(context.Background(), plain, "captions.txt")
	if err != nil || s.Added != 3 {
		t.Fatalf("got %+v, %v; want 3 added", s, err)
	}
	jl, _ := ParseTexts(strings.NewReader("{\"id\":\"x1\",\"text\":\"a red circle\"}\n{\"id\":\"x2\",\"text\":\"a yellow ring\"}\n"))
	if s, err = ix.AddTexts(context.Background(), jl, "more.jsonl"); err != nil || s.Added != 2 {
		t.Fatalf("got %+v, %v; want 2 added", s, err)
	}
	if s, err = ix.AddTexts(context.Background(), plain, "captions.txt"); err != nil || s.Added != 0 || s.Unchanged != 3 {
		t.Fatalf("rerun: got %+v, %v; want 3 already stored", s, err)
	}
	if lib.DB().TextCount() != 5 || ix.Namespace().TextLen() != 5 {
		t.Fatalf("%d texts, %d embedded; want 5", lib.DB().TextCount(), ix.Namespace().TextLen())
	}
	r, err := lib.DB().Text(4)
	if err != nil || r.Source != "x1" || r.Text != "a red circle" {
		t.Errorf("text 4: %+v, %v", r, err)
	}
	// image -> text search ranks the stored texts
	v, err := m.Text.Encode(context.Background(), []string{"a yellow ring"}, encTextOpts)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := ix.Namespace().SearchTexts(v.Embeds[0], 1, 0)
	if err != nil || len(hits) != 1 || hits[0].TextID != 5 {
		t.Errorf("search: %+v, %v; want text 5 first", hits, err)
	}
}
