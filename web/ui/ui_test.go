package ui_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/web/ui"
)

func TestFSLayout(t *testing.T) {
	index, err := fs.ReadFile(ui.FS, "index.html")
	if err != nil {
		t.Fatalf("index.html is not at the top of FS: %v", err)
	}
	// Every local file the page names is embedded.
	refs := regexp.MustCompile(`(?:href|src)="([^"#?]+)"`).FindAllSubmatch(index, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html names %d files, want its CSS and scripts", len(refs))
	}
	for _, m := range refs {
		name := string(m[1])
		if name == "./" {
			continue
		}
		if _, err := fs.Stat(ui.FS, name); err != nil {
			t.Errorf("index.html names %s: %v", name, err)
		}
	}
}

// TestNoExternalResources: the page works offline; nothing is fetched from another origin.
func TestNoExternalResources(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|@import|\burl\(\s*["']?(https?:|//)`)
	err := fs.WalkDir(ui.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(ui.FS, path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "www.w3.org/2000/svg") { // an SVG namespace, not a request
				continue
			}
			if m := external.FindString(line); m != "" {
				t.Errorf("%s:%d refers to another origin: %q", path, i+1, m)
			}
		}
		if n := strings.Count(string(b), "\n"); n > 800 {
			t.Errorf("%s has %d lines; split it", path, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
