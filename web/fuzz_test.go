package web

import (
	"bytes"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/internal/hostile"
)

// FuzzParseKeys: any key file either parses into keys that match themselves or fails with
// ErrBadKeys; it never panics.
func FuzzParseKeys(f *testing.F) {
	for _, s := range []string{"key-0123456789abcdef\n", "# c\n\nkey-0123456789abcdef\r\n", "\ufeffk", "short", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeys(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, line := range strings.Split(s, "\n") {
			line = strings.TrimPrefix(strings.TrimSpace(line), "\ufeff")
			if line != "" && !strings.HasPrefix(line, "#") && !k.Match(line) {
				t.Fatalf("key %q from the file does not match", line)
			}
		}
	})
}

// FuzzParseParams: query strings from clients give parameters in range or an error.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"limit=5&offset=2&k=16&min_score=0.3", "from=2024-01-01&to=2024-02-01&folder=a/b",
		"limit=-1", "folder=a/../../b", "folder=/a/b", "min_score=NaN", "to=2024-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := parseParams(q, true)
		if err != nil {
			return
		}
		if p.Limit < 0 || p.Limit > 1000 || p.Offset < 0 || p.K < 0 || p.K > 1024 {
			t.Fatalf("out of range: %+v", p)
		}
		if p.MinScore != nil && !(*p.MinScore >= 0 && *p.MinScore <= 1) {
			t.Fatalf("min score %v", *p.MinScore)
		}
		if d := p.Filter.Folder; d != "" && (strings.HasPrefix(d, "/") || !strings.HasSuffix(d, "/") ||
			strings.HasPrefix(d, "../") || strings.Contains(d, "/../") || strings.Contains(d, "//") || d == "./") {
			t.Fatalf("folder %q", d)
		}
	})
}

// FuzzParseID: an id is a positive decimal or an error.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "42", "0", "-1", "../../etc/passwd", "%2e%2e", "18446744073709551615", "18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseID(s)
		if err == nil && (id == 0 || strings.ContainsAny(s, "./%")) {
			t.Fatalf("parseID(%q) = %d", s, id)
		}
	})
}

// FuzzRequestBodies: whatever bytes arrive as a multipart upload or a JSON body of the
// model-running endpoints, the answer is a JSON success or a 4xx, never a 5xx or a crash.
func FuzzRequestBodies(f *testing.F) {
	body, ct := form(f, map[string][]byte{"image": hostile.PNG16(8, 8)}, map[string]string{"text": "a red circle"})
	b, _ := io.ReadAll(body)
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	f.Add(b, boundary, false)
	f.Add(b[:len(b)/2], boundary, false)
	f.Add([]byte(`{"id": 1, "text": "a red circle"}`), "", true)
	f.Add([]byte(`{"id": -1, "text": 7}`), "", true)
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n\xff\xd8\xff\r\n--x--\r\n"), "x", false)
	fx := newFixture(f, 1, Options{NoRateLimit: true, MaxUploadBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, data []byte, boundary string, asJSON bool) {
		ct := "application/json"
		if !asJSON {
			ct = "multipart/form-data; boundary=" + boundary
		}
		for _, target := range []string{"/api/v1/search/image", "/api/v1/score"} {
			w := fx.do(t, req{method: "POST", target: target, body: bytes.NewReader(data), ctype: ct})
			if w.Code >= 500 {
				t.Fatalf("%s: %d %s", target, w.Code, clip(w.Body.String()))
			}
		}
	})
}
