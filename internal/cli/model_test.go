package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/models"
)

// TestResolveModel: --model takes an installed model's name or a folder; empty takes
// $GLIMPSE_MODEL, else the embedded default; a known but missing name says how to pull it.
func TestResolveModel(t *testing.T) {
	store := models.Store{Dir: filepath.Join(t.TempDir(), "models")}
	t.Setenv(EnvModels, store.Dir)
	t.Setenv(EnvModel, "")
	staged, err := store.Stage("mine")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(staged, models.Default()); err != nil {
		t.Fatal(err)
	}
	if err := store.Install("mine", staged); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	t.Chdir(folder)
	if err := os.Mkdir("local", 0o755); err != nil {
		t.Fatal(err)
	}
	known := models.Catalog()[0].Name
	cases := []struct {
		name, value, env string
		want             string // the folder; "" the embedded default
		err              string
	}{
		{"empty: the embedded default", "", "", "", ""},
		{"the default's name", models.DefaultName, "", "", ""},
		{"an installed name", "mine", "", store.Path("mine"), ""},
		{"$GLIMPSE_MODEL", "", "mine", store.Path("mine"), ""},
		{"the flag over $GLIMPSE_MODEL", models.DefaultName, "mine", "", ""},
		{"a path", "./local", "", "./local", ""},
		{"an absolute path", folder, "", folder, ""},
		{"a folder in the working directory", "local", "", "local", ""},
		{"a known name, not installed", known, "", "", "models pull " + known},
		{"an unknown name", "nonesuch", "", "", "no installed model of that name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(EnvModel, c.env)
			got, err := ResolveModel(c.value)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ResolveModel(%q) = %q, %v; want an error with %q", c.value, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ResolveModel(%q) = %q, %v; want %q", c.value, got, err, c.want)
			}
		})
	}
	b, err := OpenBundle("mine")
	if err != nil || b.Label != store.Path("mine") || b.Info.Name != models.DefaultName {
		t.Errorf("OpenBundle(mine) = %+v, %v", b, err)
	}
}
