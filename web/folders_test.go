package web

import (
	"fmt"
	"slices"
	"testing"
)

// TestFolderRoots: relative folder names start from the index roots when a folder lies under
// one, else from the common folder of those outside; names are unique; a name maps back to the
// same absolute prefix.
func TestFolderRoots(t *testing.T) {
	cases := []struct {
		name       string
		indexRoots []string
		dirs       []string
		roots      string            // want: name=abs ...
		rel        map[string]string // abs folder -> want relative name
	}{
		{"common folder", nil, []string{"/srv/photos/a/", "/srv/photos/b/"},
			"[photos=/srv/photos/]",
			map[string]string{"/srv/photos/a/": "photos/a/", "/srv/photos/": "photos/"}},
		{"one folder", nil, []string{"/srv/photos/"},
			"[photos=/srv/photos/]", map[string]string{"/srv/photos/": "photos/"}},
		{"whole disk", nil, []string{"/a/", "/b/"},
			"[root=/]", map[string]string{"/a/": "root/a/"}},
		{"index roots, same base names", []string{"/home/ann/photos", "/home/bob/photos/"},
			[]string{"/home/ann/photos/2024/", "/home/bob/photos/"},
			"[photos=/home/ann/photos/ photos-2=/home/bob/photos/]",
			map[string]string{"/home/ann/photos/2024/": "photos/2024/", "/home/bob/photos/x/": "photos-2/x/"}},
		{"folders outside the index roots", []string{"/srv/photos"},
			[]string{"/mnt/usb/dcim/a/", "/mnt/usb/dcim/b/", "/srv/photos/"},
			"[photos=/srv/photos/ dcim=/mnt/usb/dcim/]",
			map[string]string{"/mnt/usb/dcim/a/": "dcim/a/", "/srv/photos/": "photos/"}},
		{"nested index roots", []string{"/srv/photos", "/srv/photos/phone"},
			[]string{"/srv/photos/phone/2024/"},
			"[photos=/srv/photos/ phone=/srv/photos/phone/]",
			map[string]string{"/srv/photos/phone/2024/": "phone/2024/", "/srv/photos/a/": "photos/a/"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dirs := slices.Clone(c.dirs)
			slices.Sort(dirs)
			roots := rootsOf(c.indexRoots, dirs)
			var got []string
			for _, r := range roots {
				got = append(got, r.name+"="+r.abs)
			}
			if fmt.Sprint(got) != c.roots {
				t.Fatalf("roots %v, want %s", got, c.roots)
			}
			for abs, want := range c.rel {
				rel, ok := relativeTo(roots, abs)
				if !ok || rel != want {
					t.Fatalf("%s: %q %v, want %q", abs, rel, ok, want)
				}
				if back, _ := absoluteOf(roots, rel); back != abs {
					t.Fatalf("%s -> %s -> %s", abs, rel, back)
				}
			}
			if _, ok := relativeTo(roots, "/elsewhere/"); ok && c.roots != "[root=/]" {
				t.Fatalf("/elsewhere/ has a root")
			}
		})
	}
}
