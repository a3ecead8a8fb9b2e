package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseListing feeds every listing parser the same bytes: none may panic, and whatever passes
// the checks must be safe to write to disk.
func FuzzParseListing(f *testing.F) {
	files, _ := filepath.Glob("testdata/listing/*.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"sha":"x","siblings":[{"rfilename":"a","size":1,"lfs":{"sha256":"","size":2}}]}`))
	f.Add([]byte(`[{"type":"file","path":"a","size":-1}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, kind := range []string{"hf-modelinfo", "hf-tree", "ms-files"} {
			files, err := parseListing(kind, body)
			if err != nil {
				continue
			}
			for _, f := range files {
				local := filepath.Join("/dst", filepath.FromSlash(f.Path))
				if !strings.HasPrefix(local, "/dst/") || f.Size < 0 {
					t.Fatalf("%s: accepted %+v (-> %s)", kind, f, local)
				}
				if algo, want := f.digest(); algo != "" && len(want) != map[string]int{"sha256": 64, "git-sha1": 40}[algo] {
					t.Fatalf("%s: accepted digest %s %q", kind, algo, want)
				}
			}
		}
	})
}

// FuzzParseHeaders feeds the header parsers: none may panic, and an accepted Content-Range is a
// real range.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"bytes 100-199/200", "bytes 0-0/*", `<https://a/3>; rel="next"`, "120", "Wed, 21 Oct 2015 07:28:00 GMT", `{"Code":1,"Message":"m"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if cr, err := parseContentRange(s); err == nil {
			if cr.first < 0 || cr.last < cr.first || cr.total != -1 && cr.total <= cr.last {
				t.Fatalf("accepted %q as %+v", s, cr)
			}
		}
		if d := parseRetryAfter(s); d < 0 {
			t.Fatalf("negative Retry-After %v from %q", d, s)
		}
		parseNextLink(s)
		parseErrorBody([]byte(s))
	})
}
