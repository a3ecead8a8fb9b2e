package hub

import (
	"errors"
	"os"
	"testing"
	"time"
)

// parseListing runs body through the parser of its kind and the checks every listing gets.
func parseListing(kind string, body []byte) ([]File, error) {
	var files []File
	var err error
	switch kind {
	case "hf-modelinfo":
		_, files, _, err = parseModelInfo(body)
	case "hf-tree":
		files, err = parseTree(body)
	case "ms-files":
		files, _, err = parseModelScopeFiles(body)
	}
	if err != nil {
		return nil, err
	}
	return files, checkFiles(files)
}

func TestParseListing(t *testing.T) {
	cases := []struct {
		file, kind string
		want       int   // files
		lfs        int   // of them LFS
		err        error // nil: parses and passes the checks
	}{
		{file: "hf-modelinfo.json", kind: "hf-modelinfo", want: 7, lfs: 2},
		{file: "hf-modelinfo-nosiblings.json", kind: "hf-modelinfo", want: 0},
		{file: "hf-tree.json", kind: "hf-tree", want: 2, lfs: 1},
		{file: "ms-files.json", kind: "ms-files", want: 3, lfs: 1},
		{file: "hostile-traversal.json", kind: "hf-modelinfo", err: ErrBadResponse},
		{file: "hostile-collision.json", kind: "hf-modelinfo", err: ErrBadResponse},
		{file: "hostile-badsha.json", kind: "ms-files", err: ErrBadResponse},
		{file: "ms-files.json", kind: "hf-modelinfo", err: ErrBadResponse}, // no sha
		{file: "hf-tree.json", kind: "ms-files", err: ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.file, func(t *testing.T) {
			body, err := os.ReadFile("testdata/listing/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			files, err := parseListing(tc.kind, body)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			lfs := 0
			for _, f := range files {
				if f.LFS {
					lfs++
					if f.SHA256 == "" || f.Size == 0 {
						t.Errorf("LFS file without digest or size: %+v", f)
					}
				}
			}
			if tc.err == nil && (len(files) != tc.want || lfs != tc.lfs) {
				t.Errorf("%d files (%d LFS), want %d (%d)", len(files), lfs, tc.want, tc.lfs)
			}
		})
	}
}

func TestCheckFile(t *testing.T) {
	sha := "8c4ef1a6a7c2f7d9e9b1c6a3d5f4e2b1a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5"
	cases := []struct {
		name string
		f    File
		ok   bool
	}{
		{"plain", File{Path: "visual/model.onnx", Size: 3, SHA256: sha}, true},
		{"dotfile", File{Path: ".gitattributes", Size: 3}, true},
		{"parent", File{Path: "../x", Size: 3}, false},
		{"inner parent", File{Path: "a/../../x", Size: 3}, false},
		{"absolute", File{Path: "/etc/passwd", Size: 3}, false},
		{"backslash", File{Path: `a\..\..\x`, Size: 3}, false},
		{"drive", File{Path: "C:x", Size: 3}, false},
		{"empty segment", File{Path: "a//b", Size: 3}, false},
		{"dot", File{Path: ".", Size: 3}, false},
		{"trailing slash", File{Path: "a/", Size: 3}, false},
		{"nul", File{Path: "a\x00b", Size: 3}, false},
		{"negative size", File{Path: "a", Size: -1}, false},
		{"short sha", File{Path: "a", SHA256: "abc"}, false},
		{"upper-case blob id", File{Path: "a", BlobID: "A6344AAC8C09253B3B630FB776AE94478AA0275B"}, false},
	}
	for _, tc := range cases {
		if err := checkFile(tc.f); (err == nil) != tc.ok {
			t.Errorf("%s: %+v: err %v", tc.name, tc.f, err)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	cr := []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 100-199/200", 100, 199, 200, true},
		{"bytes 0-0/*", 0, 0, -1, true},
		{"bytes 100-199/150", 0, 0, 0, false},
		{"bytes 200-100/300", 0, 0, 0, false},
		{"bytes */200", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes -1-5/9", 0, 0, 0, false},
	}
	for _, tc := range cr {
		got, err := parseContentRange(tc.in)
		if (err == nil) != tc.ok || tc.ok && (got != contentRange{tc.first, tc.last, tc.total}) {
			t.Errorf("parseContentRange(%q) = %+v, %v", tc.in, got, err)
		}
	}
	ra := []struct {
		in   string
		want time.Duration
	}{{"", 0}, {"3", 3 * time.Second}, {"-1", 0}, {"soon", 0}, {"99999999", 0}}
	for _, tc := range ra {
		if got := parseRetryAfter(tc.in); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	links := []struct{ in, want string }{
		{`<https://huggingface.co/api/models/x/tree/main?cursor=abc>; rel="next"`, "https://huggingface.co/api/models/x/tree/main?cursor=abc"},
		{`<https://a/1>; rel="prev", <https://a/3>; rel=next`, "https://a/3"},
		{`https://a/3; rel="next"`, ""},
		{"", ""},
	}
	for _, tc := range links {
		if got := parseNextLink(tc.in); got != tc.want {
			t.Errorf("parseNextLink(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	bodies := []struct{ in, code, msg string }{
		{`{"Code":10010205001,"Message":"model not exist","Success":false}`, "10010205001", "model not exist"},
		{`{"error":"Repository not found"}`, "", "Repository not found"},
		{`<html>`, "", ""},
	}
	for _, tc := range bodies {
		if code, msg := parseErrorBody([]byte(tc.in)); code != tc.code || msg != tc.msg {
			t.Errorf("parseErrorBody(%q) = %q, %q", tc.in, code, msg)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 351468764: "351.5 MB", 2_100_000_000: "2.1 GB", 5e15: "5000.0 TB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
