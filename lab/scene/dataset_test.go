package scene

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// readTree maps relative file names under dir to their contents.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func generate(t *testing.T, o Options) map[string][]byte {
	t.Helper()
	o.Out = t.TempDir()
	if err := Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return readTree(t, o.Out)
}

func TestGenerateDeterministic(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"png", Options{N: 10, Seed: 5, Size: 48}},
		{"jpeg twins", Options{N: 6, Seed: 5, Size: 40, Format: "jpeg", Twins: true, Start: 3}},
		{"both", Options{N: 10, Seed: 5, Size: 48, Captions: StyleBoth}},
		{"full twins", Options{N: 4, Seed: 5, Size: 32, Twins: true, Captions: StyleFull}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o1, o4 := tc.opts, tc.opts
			o1.Workers, o4.Workers = 1, 4
			a, b, c := generate(t, o1), generate(t, o4), generate(t, o4)
			want := tc.opts.N + 1
			if tc.opts.Twins {
				want = 2*tc.opts.N + 1
			}
			if len(a) != want {
				t.Fatalf("got %d files, want %d", len(a), want)
			}
			for name, data := range a {
				if !bytes.Equal(data, b[name]) || !bytes.Equal(data, c[name]) {
					t.Errorf("%s differs between runs / worker counts", name)
				}
			}
			o2 := o1
			o2.Seed++
			d := generate(t, o2)
			if bytes.Equal(a["captions.json"], d["captions.json"]) {
				t.Error("different seeds gave identical captions.json")
			}
		})
	}
}

func TestGeneratedDatasetConsistent(t *testing.T) {
	dir := t.TempDir()
	o := Options{N: 8, Seed: 2, Size: 96, Out: dir, Twins: true, Workers: 3}
	if err := Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "captions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ds Dataset
	if err := json.Unmarshal(raw, &ds); err != nil {
		t.Fatalf("captions.json is not valid JSON: %v", err)
	}
	if ds.Dataset != "scenes" || ds.Seed != 2 || ds.Size != 96 || len(ds.Images) != 16 {
		t.Fatalf("header = %q %d %d, %d images", ds.Dataset, ds.Seed, ds.Size, len(ds.Images))
	}
	for i, rec := range ds.Images {
		if rec.ImgID != i || rec.Split != "test" || len(rec.Sentences) != NumCaptions || len(rec.Negatives) == 0 {
			t.Errorf("record %d malformed: %+v", i, rec)
		}
		if want := []string{"a", "b"}[i%2]; !strings.HasSuffix(rec.Filename, want+".png") || rec.Twin == "" {
			t.Errorf("record %d: filename %q twin %q", i, rec.Filename, rec.Twin)
		}
		for _, s := range rec.Sentences {
			if !Holds(rec.Scene, s.Raw) || strings.Join(s.Tokens, " ") != strings.ReplaceAll(s.Raw, ",", "") {
				t.Errorf("record %d: bad sentence %+v", i, s)
			}
		}
		for _, n := range rec.Negatives {
			if Holds(rec.Scene, n.Raw) {
				t.Errorf("record %d: negative holds: %q", i, n.Raw)
			}
		}
		f, err := os.Open(filepath.Join(dir, "images", rec.Filename))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 96 {
			t.Fatalf("record %d: bad image: %v", i, err)
		}
	}
}

// TestGolden pins captions.json for seed 7: the default (short) output, and
// the full output, which is what commit 03b3f95 wrote before it was reverted.
func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		style Style
		file  string
	}{
		{"default", "", "captions_seed7.json"},
		{"short", StyleShort, "captions_seed7.json"},
		{"full", StyleFull, "captions_seed7_full.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := generate(t, Options{N: 3, Seed: 7, Size: 64, Captions: tc.style})
			golden := filepath.Join("testdata", "golden", tc.file)
			if *update && tc.style != "" {
				if err := os.WriteFile(golden, files["captions.json"], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(files["captions.json"], want) {
				t.Errorf("captions.json differs from %s; rerun with -update if intended", golden)
			}
		})
	}
}

// TestStylesSameScenes checks that the caption style changes only sentences
// and negatives: images and every other field are byte-identical, both holds
// the short sentences first, and every sentence holds and no negative does.
func TestStylesSameScenes(t *testing.T) {
	for _, twins := range []bool{false, true} {
		t.Run(fmt.Sprintf("twins=%v", twins), func(t *testing.T) {
			base := Options{N: 40, Seed: 11, Size: 32, Twins: twins, Workers: 2}
			trees := map[Style]map[string][]byte{}
			docs := map[Style]Dataset{}
			for _, st := range []Style{StyleShort, StyleFull, StyleBoth} {
				o := base
				o.Captions = st
				trees[st] = generate(t, o)
				var ds Dataset
				if err := json.Unmarshal(trees[st]["captions.json"], &ds); err != nil {
					t.Fatal(err)
				}
				docs[st] = ds
			}
			for name, data := range trees[StyleShort] {
				for _, st := range []Style{StyleFull, StyleBoth} {
					if name != "captions.json" && !bytes.Equal(data, trees[st][name]) {
						t.Errorf("%s: %s differs from short", st, name)
					}
				}
			}
			short, full, both := docs[StyleShort].Images, docs[StyleFull].Images, docs[StyleBoth].Images
			if len(short) != len(full) || len(short) != len(both) {
				t.Fatalf("image counts %d %d %d", len(short), len(full), len(both))
			}
			singles := 0
			for i := range short {
				sr, fr, br := short[i], full[i], both[i]
				if len(sr.Scene.Objects) == 1 {
					singles++
				}
				for st, r := range map[Style]ImageRecord{StyleFull: fr, StyleBoth: br} {
					a, b := sr, r
					a.Sentences, a.Negatives, b.Sentences, b.Negatives = nil, nil, nil, nil
					if !reflect.DeepEqual(a, b) {
						t.Errorf("%s record %d differs from short outside captions: %+v vs %+v", st, i, a, b)
					}
				}
				wantBoth := slices.Clone(sr.Sentences)
				for _, s := range fr.Sentences {
					if !slices.ContainsFunc(wantBoth, func(x Sentence) bool { return x.Raw == s.Raw }) {
						wantBoth = append(wantBoth, s)
					}
				}
				if !reflect.DeepEqual(br.Sentences, wantBoth) {
					t.Errorf("record %d: both sentences %v, want %v", i, br.Sentences, wantBoth)
				}
				wantNegs := slices.Clone(sr.Negatives)
				for _, n := range fr.Negatives {
					if !slices.ContainsFunc(wantNegs, func(x Negative) bool { return x.Raw == n.Raw }) {
						wantNegs = append(wantNegs, n)
					}
				}
				if !slices.Equal(br.Negatives, wantNegs) {
					t.Errorf("record %d: both negatives %v, want %v", i, br.Negatives, wantNegs)
				}
				for _, r := range []ImageRecord{sr, fr, br} {
					for _, s := range r.Sentences {
						if !Holds(r.Scene, s.Raw) || strings.Join(s.Tokens, " ") != strings.ReplaceAll(s.Raw, ",", "") {
							t.Errorf("record %d: bad sentence %+v", i, s)
						}
					}
					for _, n := range r.Negatives {
						if Holds(r.Scene, n.Raw) {
							t.Errorf("record %d: negative holds: %q", i, n.Raw)
						}
					}
				}
			}
			if !twins && singles == 0 {
				t.Error("no single-object scene to compare")
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"ok", Options{N: 1, Out: "x"}, ""},
		{"zero n", Options{Out: "x"}, "n must"},
		{"big n", Options{N: MaxN + 1, Out: "x"}, "n must"},
		{"no out", Options{N: 1}, "out"},
		{"small size", Options{N: 1, Out: "x", Size: 5}, "size"},
		{"format", Options{N: 1, Out: "x", Format: "gif"}, "format"},
		{"start", Options{N: 1, Out: "x", Start: -1}, "start"},
		{"captions", Options{N: 1, Out: "x", Captions: "long"}, "captions must be short, full or both"},
		{"captions both", Options{N: 1, Out: "x", Captions: StyleBoth}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}
