package scene

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"image/png"
	"os"
	"path/filepath"
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

func TestGolden(t *testing.T) {
	files := generate(t, Options{N: 3, Seed: 7, Size: 64})
	golden := filepath.Join("testdata", "golden", "captions_seed7.json")
	if *update {
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
