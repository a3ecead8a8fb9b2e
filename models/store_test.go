package models

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// installDefault stages a copy of the embedded bundle as name and installs it.
func installDefault(t *testing.T, s Store, name string) {
	t.Helper()
	dir, err := s.Stage(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, Default()); err != nil {
		t.Fatal(err)
	}
	if err := s.Install(name, dir); err != nil {
		t.Fatal(err)
	}
}

// TestStore: a staged bundle is installed by a rename, listed with its manifest's facts,
// replaced by a second install without a moment where the name is missing, and removed; names
// that are paths are refused; folders without a manifest and the staging folder are not listed.
func TestStore(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "models")}
	if in, err := s.List(); err != nil || len(in) != 0 {
		t.Fatalf("empty store: %v %v", in, err)
	}
	installDefault(t, s, "tiny-copy")
	if !s.Has("tiny-copy") {
		t.Fatal("not installed")
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "stray"), 0o755); err != nil { // no model.json
		t.Fatal(err)
	}
	in, err := s.List()
	if err != nil || len(in) != 1 {
		t.Fatalf("list: %+v %v", in, err)
	}
	b := in[0]
	if b.Name != "tiny-copy" || b.Family != "tiny-scenes" || b.Precision != "fp32" || b.Dim != 128 || !b.ITM ||
		b.Bytes < 1<<20 || b.Err != nil {
		t.Errorf("listed %+v", b)
	}

	// a second install replaces the first; nothing is left in the staging folder
	dir, err := s.Stage("tiny-copy")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, Default()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Install("tiny-copy", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Path("tiny-copy"), "marker")); err != nil {
		t.Errorf("the second install did not replace the first: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(s.Dir, stagingDir)); len(left) != 0 {
		t.Errorf("staging folder holds %d entries after the installs", len(left))
	}

	// a folder without a manifest is not installed
	empty, err := s.Stage("broken")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Install("broken", empty); err == nil || s.Has("broken") {
		t.Errorf("installed a folder without model.json: %v", err)
	}

	if err := s.Remove("tiny-copy"); err != nil || s.Has("tiny-copy") {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(s.Path("tiny-copy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed bundle still on disk: %v", err)
	}
	if err := s.Remove("tiny-copy"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("second remove: %v", err)
	}
}

// TestValidName: store names are folder names, never paths.
func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"clip-vit-b-32", true},
		{"blip-itm-base-coco-int8", true},
		{"siglip_so400m.v2", true},
		{"", false},
		{"../etc", false},
		{"a/b", false},
		{".hidden", false},
		{"-flag", false},
		{"Upper", false},
		{"a..b", false},
		{"x" + string(make([]byte, 70)), false},
	} {
		if err := ValidName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidName(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// TestCatalog: every entry is complete and valid, names are unique and none is the embedded
// default's.
func TestCatalog(t *testing.T) {
	cat := Catalog()
	if len(cat) < 4 {
		t.Fatalf("%d entries", len(cat))
	}
	var names []string
	for _, e := range cat {
		if err := e.check(); err != nil {
			t.Error(err)
		}
		if slices.Contains(names, e.Name) {
			t.Errorf("%s listed twice", e.Name)
		}
		names = append(names, e.Name)
		if got, ok := Lookup(e.Name); !ok || got.Name != e.Name {
			t.Errorf("Lookup(%s)", e.Name)
		}
	}
	if _, ok := Lookup("no-such-model"); ok {
		t.Error("Lookup of an unknown name")
	}
}

// TestSelect: patterns pick files, "a|b" the first alternative present.
func TestSelect(t *testing.T) {
	e := Entry{Name: "x", Files: []string{"config.json", "config_*.json", "model.safetensors|pytorch_model.bin", "vocab.txt"}}
	cases := []struct {
		name string
		repo []string
		want []string
	}{
		{"safetensors preferred", []string{"config.json", "model.safetensors", "pytorch_model.bin", "vocab.txt", "tf_model.h5"},
			[]string{"config.json", "model.safetensors", "vocab.txt"}},
		{"bin when alone", []string{"config.json", "pytorch_model.bin", "config_bert.json", "README.md"},
			[]string{"config.json", "config_bert.json", "pytorch_model.bin"}},
		{"nothing matches", []string{"README.md"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.Select(c.repo)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("Select = %v %v, want %v", got, err, c.want)
			}
		})
	}
}
